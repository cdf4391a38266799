"""Running a restoration model on tensors: the single inference path used by the API, the CLI,
validation during training and the demo.

``run_model`` restores a batch in one pass; ``restore`` adds what large photos need: tiling (fixed
tile size, or one chosen from a memory budget), optional x8 test-time augmentation, and test-time
local pooling for networks trained on crops (``local_pooling.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import MemrestoreError
from ..models import final_output
from ..tensors import eval_mode, model_device


@torch.no_grad()
def run_model(model: nn.Module, x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Restore an NCHW float batch in [0, 1] on the model's device; returns [0, 1] on x's device.

    ``dtype=torch.bfloat16`` runs under autocast (faster on recent CPUs, slightly less exact).
    """
    device = model_device(model)
    with eval_mode(model), torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        out = final_output(model(x.to(device)))
    return out.float().clamp_(0.0, 1.0).to(x.device)


@dataclass
class InferenceOptions:
    """How to run a model on a large image.

    ``tile``: tile side in pixels (0 = whole image unless ``max_memory`` asks for tiles);
    ``overlap``: pixels shared by neighbouring tiles; ``max_memory``: bytes the process may use, from
    which a tile size is chosen; ``tta``: average the 8 flips/rotations; ``bf16``: autocast;
    ``channels_last``: NHWC memory layout (faster convolutions on many CPUs); ``local_pooling``: the
    side of the training crops, so that global average pools become local means of the extent they
    had in training (TLC; 0 = pools stay global).
    """

    tile: int = 0
    overlap: int = 64
    max_memory: int | None = None
    tta: bool = False
    bf16: bool = False
    channels_last: bool = False
    local_pooling: int = 0

    def __post_init__(self) -> None:
        """Checked when the options are made, before a model is loaded or an image read."""
        if self.tile < 0 or self.overlap < 0:
            raise MemrestoreError(f"tile ({self.tile}) and overlap ({self.overlap}) must be at least 0")
        if self.tile and self.overlap >= self.tile:
            raise MemrestoreError(f"tile overlap {self.overlap} must be smaller than the tile size {self.tile}")
        if self.max_memory is not None and self.max_memory <= 0:
            raise MemrestoreError(f"memory budget must be positive, got {self.max_memory} bytes")
        if self.local_pooling < 0:
            raise MemrestoreError(f"local pooling crop must be at least 0 pixels, got {self.local_pooling}")


def _dihedral(x: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    x = torch.rot90(x, k, dims=(-2, -1))
    return x.flip(-1) if flip else x


def _undo_dihedral(x: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    x = x.flip(-1) if flip else x
    return torch.rot90(x, -k, dims=(-2, -1))


def restore(model: nn.Module, x: torch.Tensor, options: InferenceOptions | None = None) -> torch.Tensor:
    """Restore NCHW ``x`` with tiling, test-time augmentation and local pooling as ``options`` ask."""
    from .local_pooling import local_pooling

    options = options or InferenceOptions()
    if not options.local_pooling:
        return _restore(model, x, options)
    with local_pooling(model, options.local_pooling):
        return _restore(model, x, options)


def _restore(model: nn.Module, x: torch.Tensor, options: InferenceOptions) -> torch.Tensor:
    from .budget import tile_for_budget
    from .tiling import restore_tiled

    dtype = torch.bfloat16 if options.bf16 else None
    if options.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    multiple = int(getattr(model, "size_multiple", 1))
    tile = options.tile
    if options.max_memory and not tile:
        tile = tile_for_budget(model, x.shape[-2], x.shape[-1], options.max_memory, multiple, options.overlap)

    def once(image: torch.Tensor) -> torch.Tensor:
        if tile and max(image.shape[-2:]) > tile:
            return restore_tiled(lambda patch: run_model(model, patch, dtype), image, tile, options.overlap, multiple)
        return run_model(model, image, dtype)

    if not options.tta:
        return once(x)
    total = torch.zeros_like(x)
    for k in range(4):
        for flip in (False, True):
            total += _undo_dihedral(once(_dihedral(x, k, flip)), k, flip)
    return total / 8


__all__ = ["InferenceOptions", "restore", "run_model"]
