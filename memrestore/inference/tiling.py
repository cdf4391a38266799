"""Tiled inference for images larger than memory allows, seamless and (for finite receptive fields)
identical to whole-image inference.

The image is first padded to the model's size multiple exactly as the model would pad it, then cut
into tiles whose size and offsets are multiples of it (so strided layers see the same sampling grid).
Neighbouring tiles overlap by ``overlap`` pixels. Inside each overlap, a tile's weight is zero within
``margin = (overlap - blend) / 2`` pixels of its cut edge, then rises along a raised-cosine ramp of
``blend`` pixels; the two ramps are complementary (cos^2 + sin^2 = 1). Edges on the image border are
not tapered. Hence every output pixel comes only from tiles that saw at least ``margin`` pixels of
context around it: with ``margin`` >= the receptive-field radius r, i.e. ``overlap`` >= 2r + blend
(the receptive-field diameter plus the blend), the result equals whole-image inference up to float
rounding. Models with global pooling have no finite receptive field; their tiled
output differs slightly (measured in the inference benchmark).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from ..errors import MemrestoreError
from ..tensors import eval_mode, model_device, pad_to_multiple

Restore = Callable[[torch.Tensor], torch.Tensor]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``[0, length)`` with tiles of ``tile`` that overlap by ``overlap``."""
    if tile >= length:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def balanced_tile(length: int, max_tile: int, overlap: int, multiple: int) -> int:
    """The smallest tile (multiple of ``multiple``, <= ``max_tile``) that covers ``length`` with the
    fewest tiles, so no tile is mostly a repeat of its neighbour."""
    if length <= max_tile:
        return length
    count = math.ceil((length - overlap) / (max_tile - overlap))
    tile = math.ceil((length - overlap) / count) + overlap
    return min(max_tile, math.ceil(tile / multiple) * multiple)


def ramp_weights(size: int, taper_start: bool, taper_end: bool, margin: int, blend: int) -> torch.Tensor:
    """1-D weights: zero for ``margin`` px at a tapered end, a raised-cosine ramp of ``blend`` px, then 1."""
    weights = torch.ones(size, dtype=torch.float64)
    rise = torch.sin(0.5 * math.pi * (torch.arange(blend, dtype=torch.float64) + 0.5) / blend) ** 2 if blend else None
    if taper_start:
        weights[:margin] = 0
        if blend:
            weights[margin : margin + blend] = rise
    if taper_end:
        weights[size - margin :] = 0
        if blend:
            weights[size - margin - blend : size - margin] = rise.flip(0)
    return weights


def restore_tiled(restore: Restore, x: torch.Tensor, tile: int, overlap: int, multiple: int = 1, blend: int | None = None) -> torch.Tensor:
    """Apply ``restore`` (NCHW -> NCHW) tile by tile and blend; returns a tensor shaped like ``x``."""
    if blend is None:
        blend = min(overlap // 2, 16)
    tile = max(multiple, tile // multiple * multiple)
    overlap = overlap // multiple * multiple
    if overlap >= tile:
        raise MemrestoreError(f"tile overlap {overlap} must be smaller than the tile size {tile}")
    if blend > overlap:
        raise MemrestoreError(f"blend {blend} cannot exceed the overlap {overlap}")
    margin = (overlap - blend) // 2
    padded, (h, w) = pad_to_multiple(x, multiple)
    H, W = padded.shape[-2:]
    tile_h, tile_w = balanced_tile(H, tile, overlap, multiple), balanced_tile(W, tile, overlap, multiple)
    output = torch.zeros_like(padded)
    total = torch.zeros((1, 1, H, W), dtype=padded.dtype, device=padded.device)
    for top in tile_starts(H, tile_h, overlap):
        wy = ramp_weights(tile_h, top > 0, top + tile_h < H, margin, blend)
        for left in tile_starts(W, tile_w, overlap):
            wx = ramp_weights(tile_w, left > 0, left + tile_w < W, margin, blend)
            weight = (wy[:, None] * wx[None, :]).to(padded.dtype).to(padded.device)
            patch = padded[..., top : top + tile_h, left : left + tile_w]
            output[..., top : top + tile_h, left : left + tile_w] += restore(patch) * weight
            total[..., top : top + tile_h, left : left + tile_w] += weight
    return (output / total)[..., :h, :w]


def receptive_field_radius(model: torch.nn.Module, size: int = 128, channels: int = 3) -> int | None:
    """Measured receptive-field radius (px) of the centre output pixel; None when it spans the whole
    probe (global pooling, attention over the image)."""
    device = model_device(model)
    x = torch.rand(1, channels, size, size, device=device, requires_grad=True)
    from ..models import final_output

    with eval_mode(model):
        out = final_output(model(x))
        out[..., size // 2, size // 2].sum().backward()
    grad = x.grad.abs().sum(dim=(0, 1))
    ys, xs = torch.nonzero(grad > 0, as_tuple=True)
    radius = int(max((ys - size // 2).abs().max(), (xs - size // 2).abs().max()))
    touches_border = bool(grad[0].any() or grad[-1].any() or grad[:, 0].any() or grad[:, -1].any())
    return None if touches_border else radius
