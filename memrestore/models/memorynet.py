"""MemoryNet (Zhang, Gu, Zhu, "Memory augment is All You Need for image restoration",
arXiv 2309.01377): MPRNet with a hierarchical memory augment.

Memory placements (``memory``):

* ``released``: as in the authors' released code (zhangbaijin/MemoryNet): the memory reads the raw
  input pixels (C = 3) and its part / instance / semantic read-outs *replace* the images read by
  stages 1 / 2 / 3; the final residual is added to the semantic read-out. The raw input never reaches
  the backbone, a strong per-pixel colour bottleneck (github.com/zhangbaijin/MemoryNet, model definition).
* ``feature``: the reading the paper's text also allows (Sec. 3.2, memory as latent attribute
  variables): a 3x3 conv embeds the input into ``memory_dim`` channels, the memory reads that
  embedding, and each level's read-out is projected by a zero-initialised 1x1 conv and added to the
  shallow features of its stage. At initialisation the network is exactly the backbone.
* ``none``: the plain MPRNet backbone.

``feature`` is the default, chosen by measurement: on real rain (Rain12, 3 seeds, 400 CPU steps,
benchmarks/suites/memorynet_ablation.yaml, RESULTS.md) it scored 31.03 dB against 16.24 dB for
``released`` (input 30.13 dB), whose colour bottleneck the short schedule cannot overcome.

``auxiliary_losses()`` returns the optional memory regularisers of the last forward pass (addressing
entropy, MNAD compactness and separateness), weighted by the ``*_weight`` options; the trainer adds
them to the configured losses. ``last_readout`` keeps the last addressing for inspection.
"""

from __future__ import annotations

import torch
from torch import nn

from ..tensors import pad_to_multiple
from .blocks import zero_conv
from .interface import RestorationModel
from .memory import HierarchicalMemory, MemoryReadout, hierarchical_regularisers
from .mprnet import MPRNet

PLACEMENTS = ("none", "released", "feature")


class MemoryNet(RestorationModel):
    size_multiple = MPRNet.size_multiple

    def __init__(
        self,
        n_feat: int = 40,
        scale_unetfeats: int = 20,
        scale_orsnetfeats: int = 16,
        num_cab: int = 8,
        reduction: int = 4,
        memory: str = "feature",
        memory_dim: int = 16,
        classes: int = 10,
        prototypes: int = 2,
        parts: int = 5,
        shrink: float = 0.0025,
        similarity: str = "dot",
        entropy_weight: float = 0.0,
        compact_weight: float = 0.0,
        separate_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if memory not in PLACEMENTS:
            raise ValueError(f"memory must be one of {', '.join(PLACEMENTS)}, got {memory!r}")
        self.placement = memory
        self.backbone = MPRNet(n_feat, scale_unetfeats, scale_orsnetfeats, num_cab, reduction)
        self.weights = {"entropy": entropy_weight, "compact": compact_weight, "separate": separate_weight}
        self.last_readout: MemoryReadout | None = None
        if memory == "none":
            return
        dim = 3 if memory == "released" else memory_dim
        self.memory = HierarchicalMemory(dim, classes, prototypes, parts, shrink, similarity)
        if memory == "feature":
            self.embed = nn.Conv2d(3, dim, 3, padding=1)
            self.inject = nn.ModuleList(zero_conv(dim, n_feat) for _ in range(3))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        padded, (h, w) = pad_to_multiple(x, self.size_multiple)
        if self.placement == "none":
            outputs = self.backbone.stages([padded] * 3)
        elif self.placement == "released":
            readout = self.last_readout = self.memory(padded)
            images = [readout.readouts[level] for level in ("part", "instance", "semantic")]
            outputs = self.backbone.stages(images)
        else:
            readout = self.last_readout = self.memory(self.embed(padded))
            extras = [inject(readout.readouts[level]) for inject, level in zip(self.inject, ("part", "instance", "semantic"))]
            outputs = self.backbone.stages([padded] * 3, extras)
        return [out[..., :h, :w] for out in outputs]

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        """Weighted memory regularisers of the last forward pass (empty when all weights are 0)."""
        if self.last_readout is None:
            return {}
        return hierarchical_regularisers(self.last_readout, self.memory.items, self.weights)

    def memory_readouts(self) -> dict[str, MemoryReadout]:
        return {"memory": self.last_readout} if self.last_readout is not None else {}
