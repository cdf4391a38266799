"""Test-time local pooling: global average pools become means over a window near the training crop.

A network with channel attention (NAFNet's simplified channel attention, the fast network's global
context) pools over the whole input. Trained on 96x96 crops and run on a whole photo, those pools
see statistics of a far larger region than they ever did in training, and the restoration drifts
(RESULTS.md, deshadow: the same weights gain up to 3.4 dB when run in 128-px tiles). Chu et al.,
"Improving Image Restoration by Revisiting Global Information Aggregation" (ECCV 2022, Sec. 3, the
Test-time Local Converter, TLC) replace each global pool at test time by a local mean whose window is
1.5x the region that pool saw on a training crop; this module does that, without retraining and
without the seams of tiling.

Every ``nn.AdaptiveAvgPool2d`` with output size 1 is swapped, for the duration of a ``with`` block,
for a ``LocalMean`` whose window is measured by one probe forward on a ``crop`` x ``crop`` input
(so it is right at every scale of the network). The window mean is a box filter computed from
cumulative sums (cost independent of the window), evaluated where the window fits inside the
feature map; the border rows and columns repeat the nearest full window, as TLC's replicate padding.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from ..errors import MemrestoreError
from ..tensors import eval_mode, model_device

# TLC's window: 1.5x the extent a global pool had on a training crop (Chu et al. 2022, Sec. 4.1).
WINDOW_SCALE = 1.5


def _box_mean_1d(x: torch.Tensor, window: int, dim: int) -> torch.Tensor:
    """Mean over every ``window`` consecutive entries along ``dim``, the ends repeated to keep the length."""
    length = x.shape[dim]
    if window >= length:
        return x.mean(dim, keepdim=True).expand_as(x)
    sums = torch.cumsum(x, dim)
    zero = torch.zeros_like(sums.narrow(dim, 0, 1))
    sums = torch.cat([zero, sums], dim)
    means = (sums.narrow(dim, window, length - window + 1) - sums.narrow(dim, 0, length - window + 1)) / window
    before = (window - 1) // 2
    after = length - means.shape[dim] - before
    pieces = [means.narrow(dim, 0, 1).repeat_interleave(before, dim)] if before else []
    pieces.append(means)
    if after:
        pieces.append(means.narrow(dim, means.shape[dim] - 1, 1).repeat_interleave(after, dim))
    return torch.cat(pieces, dim)


class LocalMean(nn.Module):
    """Per-position mean over a ``height`` x ``width`` window (a global mean where the map is smaller)."""

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        if height < 1 or width < 1:
            raise MemrestoreError(f"local pooling window must be at least 1x1, got {height}x{width}")
        self.height, self.width = height, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.height >= x.shape[-2] and self.width >= x.shape[-1]:
            return x.mean((-2, -1), keepdim=True)
        out = _box_mean_1d(_box_mean_1d(x.float(), self.height, -2), self.width, -1)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return f"window={self.height}x{self.width}"


def _is_global_pool(module: nn.Module) -> bool:
    size = getattr(module, "output_size", None)
    return isinstance(module, nn.AdaptiveAvgPool2d) and size in (1, (1, 1), [1, 1])


def global_pools(model: nn.Module) -> list[str]:
    """Names of the global average pools of ``model`` (the modules local pooling replaces)."""
    return [name for name, module in model.named_modules() if _is_global_pool(module)]


def local_windows(model: nn.Module, crop: int, channels: int = 3) -> dict[str, tuple[int, int]]:
    """Window of each global pool: ``WINDOW_SCALE`` x the feature extent it sees on a ``crop`` input."""
    names = global_pools(model)
    extents: dict[str, tuple[int, int]] = {}

    def record(name: str):
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            extents.setdefault(name, tuple(inputs[0].shape[-2:]))
        return hook

    handles = [model.get_submodule(name).register_forward_pre_hook(record(name)) for name in names]
    try:
        with torch.no_grad(), eval_mode(model):
            model(torch.zeros(1, channels, crop, crop, device=model_device(model)))
    finally:
        for handle in handles:
            handle.remove()
    return {name: (max(1, math.floor(h * WINDOW_SCALE)), max(1, math.floor(w * WINDOW_SCALE)))
            for name, (h, w) in extents.items()}


def _set_child(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


@contextmanager
def local_pooling(model: nn.Module, crop: int) -> Iterator[int]:
    """Within the block, ``model``'s global average pools are local means sized for ``crop``-pixel
    training crops (TLC); yields how many pools were replaced (0: the model has none, nothing changes)."""
    if crop < 1:
        raise MemrestoreError(f"local pooling needs the training crop size in pixels, got {crop}")
    multiple = int(getattr(model, "size_multiple", 1))
    if crop % multiple:
        raise MemrestoreError(f"local pooling crop {crop} must be a multiple of the model's size multiple {multiple}")
    windows = local_windows(model, crop)
    originals = {name: model.get_submodule(name) for name in windows}
    for name, (height, width) in windows.items():
        _set_child(model, name, LocalMean(height, width))
    try:
        yield len(windows)
    finally:
        for name, module in originals.items():
            _set_child(model, name, module)
