"""Peer architectures from the ``spandrel`` / ``spandrel-extra-arches`` packages, so that every
memrestore training method (MCLIR's SPN loss in particular) can re-train other projects' networks.

Each factory builds the peer network with CPU-sized defaults (override any listed argument in the
config) and wraps it so that it accepts any image size: inputs are padded to the architecture's size
multiple and outputs cropped back. The packages are imported only when such a model is built.
A memory can attach to a peer at its input (``memories: {input: {kind: hierarchical}}``): it reads
an embedding of the image and adds a zero-initialised correction to it before the peer runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from typing import Any, Optional

from ..errors import CheckpointError, ConfigError
from ..tensors import pad_to_multiple
from .interface import RestorationModel

Memories = Optional[dict[str, dict[str, Any]]]


class ExternalModel(RestorationModel):
    """Any-size wrapper around a peer network (weights live under ``net.``): pads to the network's
    size multiple and up to ``min_size`` (replicating the border), then crops the output back."""

    def __init__(self, net: nn.Module, size_multiple: int, min_size: int = 0, memories: Memories = None) -> None:
        super().__init__()
        self.net = net
        self.size_multiple = size_multiple
        self.min_size = min_size
        self.places = {"input": 3}
        self.add_memories(memories)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if min(h, w) < self.min_size:
            x = F.pad(x, (0, max(0, self.min_size - w), 0, max(0, self.min_size - h)), mode="replicate")
        padded, _ = pad_to_multiple(x, self.size_multiple)
        return self.net(self.attach("input", padded))[..., :h, :w]


def peer_from_weights(state: dict[str, torch.Tensor], source: str) -> ExternalModel:
    """The peer network that released weights belong to (a state dict already read safely, never
    unpickled): spandrel detects the architecture and its hyper-parameters from the keys and shapes
    (spandrel-extra-arches' architectures too, when installed). Only 3-channel restoration models at
    scale 1 are accepted; the architecture's name is kept as ``architecture``."""
    loader_class = _import("spandrel", "ModelLoader", "spandrel")
    try:
        from spandrel_extra_arches import install

        install(ignore_duplicates=True)
    except ImportError:
        pass  # spandrel's own architectures only
    try:
        descriptor = loader_class().load_from_state_dict(state)
    except Exception as exc:  # spandrel's UnsupportedModelError, or a shape mismatch while loading
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{source}: not weights of an architecture spandrel knows ({reason})") from None
    name = descriptor.architecture.name
    if descriptor.scale != 1 or descriptor.input_channels != 3 or descriptor.output_channels != 3:
        raise CheckpointError(f"{source}: a {name} model at scale {descriptor.scale} with {descriptor.input_channels} -> "
                              f"{descriptor.output_channels} channels; memrestore restores RGB images at scale 1")
    size = descriptor.size_requirements
    model = ExternalModel(descriptor.model, size.multiple_of, size.minimum)
    model.architecture = name
    return model


def _import(module: str, attribute: str, package: str):
    try:
        imported = __import__(module, fromlist=[attribute])
    except ImportError as exc:
        raise ConfigError(f"this architecture needs the {package} package: pip install {package}") from exc
    return getattr(imported, attribute)


def nafnet(width: int = 16, middle_blk_num: int = 1, enc_blk_nums: list[int] | None = None,
           dec_blk_nums: list[int] | None = None, memories: Memories = None) -> ExternalModel:
    """NAFNet (Chen et al., ECCV 2022); published GoPro model: width 64, enc [1,1,1,28], middle 1, dec [1,1,1,1]."""
    cls = _import("spandrel.architectures.NAFNet", "NAFNet", "spandrel")
    enc = list(enc_blk_nums or [1, 1, 1, 1])
    net = cls(img_channel=3, width=width, middle_blk_num=middle_blk_num, enc_blk_nums=enc, dec_blk_nums=list(dec_blk_nums or [1, 1, 1, 1]))
    return ExternalModel(net, 2 ** len(enc), memories=memories)


def restormer(dim: int = 16, num_blocks: list[int] | None = None, num_refinement_blocks: int = 1,
              heads: list[int] | None = None, ffn_expansion_factor: float = 2.0, memories: Memories = None) -> ExternalModel:
    """Restormer (Zamir et al., CVPR 2022); published: dim 48, blocks [4,6,6,8], heads [1,2,4,8], refinement 4, ffn 2.66."""
    cls = _import("spandrel_extra_arches.architectures.Restormer", "Restormer", "spandrel-extra-arches")
    net = cls(inp_channels=3, out_channels=3, dim=dim, num_blocks=list(num_blocks or [1, 1, 1, 1]),
              num_refinement_blocks=num_refinement_blocks, heads=list(heads or [1, 2, 4, 8]),
              ffn_expansion_factor=ffn_expansion_factor, bias=False, LayerNorm_type="BiasFree")
    return ExternalModel(net, 8, memories=memories)


def swinir(embed_dim: int = 30, depths: list[int] | None = None, num_heads: list[int] | None = None,
           window_size: int = 8, memories: Memories = None) -> ExternalModel:
    """SwinIR (Liang et al., ICCVW 2021) in its restoration form (upscale 1, no upsampler)."""
    cls = _import("spandrel.architectures.SwinIR", "SwinIR", "spandrel")
    depths = list(depths or [2, 2])
    net = cls(img_size=64, in_chans=3, embed_dim=embed_dim, depths=depths, num_heads=list(num_heads or [3] * len(depths)),
              window_size=window_size, mlp_ratio=2.0, upscale=1, img_range=1.0, upsampler="", resi_connection="1conv")
    return ExternalModel(net, window_size, memories=memories)


def mixdehazenet(dims: list[int] | None = None, depths: list[int] | None = None, memories: Memories = None) -> ExternalModel:
    """MixDehazeNet (Lu et al., 2023); published -S: dims [24, 48, 96, 48, 24], depths [1, 1, 2, 1, 1]."""
    cls = _import("spandrel.architectures.MixDehazeNet", "MixDehazeNet", "spandrel")
    net = cls(in_chans=3, out_chans=4, embed_dims=list(dims or [24, 48, 96, 48, 24]), depths=list(depths or [1, 1, 2, 1, 1]))
    return ExternalModel(net, 4, min_size=40, memories=memories)  # its dilated convs reflect-pad 9 px at 1/4 scale
