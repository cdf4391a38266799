"""A small residual U-Net: the baseline restoration network, the demo model, MGID's backbone, and,
with ``unshuffle: 2`` and ReLU, the CPU-first backbone ``fastunet``.

Layout follows NAFNet's plain encoder-decoder (Chen et al., ECCV 2022): a 3x3 intro conv, per level a
stack of residual blocks then a stride-2 conv that doubles channels, a middle stack, and per level a
1x1 conv + pixel-shuffle upsampling whose output is *added* to the skip feature. The network predicts
a residual that is added to the degraded input.

``unshuffle: s`` first folds every s x s pixel block into channels (pixel-unshuffle) and unfolds the
predicted residual at the end, so every convolution runs on 1/s^2 of the pixels. The choice for the
CPU-first backbone comes from ``benchmarks/blocks_speed.py`` (RESULTS.md): on this CPU dense 3x3
convolutions run at 80-86 GMAC/s, depthwise ones at 7-8 and NAFNet's block at 15, and a per-pixel
LayerNorm costs as much as a separable convolution; so the fast network is dense 3x3 convs with ReLU,
no normalisation and no global pooling (exact tiling), at half resolution.

Memories attach at ``input`` (after the intro conv), ``encoder1``.. (after each encoder stack) and
``bottleneck`` (after the middle stack): ``memories: {bottleneck: {kind: items}}``, see
``interface.py``.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..tensors import pad_to_multiple
from .blocks import stack
from .interface import RestorationModel


class UNet(RestorationModel):
    """Residual U-Net; ``depths[i]`` blocks at level i, ``width`` channels at full resolution;
    ``channel_attention=False`` gives a finite receptive field (tiles exactly); ``middle_attention``
    overrides it for the middle stack alone (global context at the lowest resolution, where pooling
    costs next to nothing)."""

    def __init__(
        self, width: int = 24, depths: list[int] | None = None, middle: int = 2, in_channels: int = 3,
        channel_attention: bool = True, activation: str = "gelu", unshuffle: int = 1,
        memories: Optional[dict[str, dict[str, Any]]] = None, middle_attention: Optional[bool] = None,
    ) -> None:
        super().__init__()
        depths = [2, 2] if depths is None else list(depths)
        if activation not in ("gelu", "relu") or unshuffle < 1:
            raise ValueError(f"activation must be gelu or relu and unshuffle >= 1, got {activation!r}, {unshuffle}")
        self.unshuffle = unshuffle
        self.size_multiple = unshuffle * 2 ** len(depths)
        folded = in_channels * unshuffle**2
        self.intro = nn.Conv2d(folded, width, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = (nn.ModuleList() for _ in range(4))
        channels = width
        self.places = {"input": width}
        for level, depth in enumerate(depths, start=1):
            self.encoders.append(stack(channels, depth, channel_attention, activation))
            self.places[f"encoder{level}"] = channels
            self.downs.append(nn.Conv2d(channels, channels * 2, 2, stride=2))
            channels *= 2
        self.middle = stack(channels, middle, channel_attention if middle_attention is None else middle_attention,
                            activation)
        self.places["bottleneck"] = channels
        for depth in reversed(depths):
            self.ups.append(nn.Sequential(nn.Conv2d(channels, channels * 2, 1), nn.PixelShuffle(2)))
            channels //= 2
            self.decoders.append(stack(channels, depth, channel_attention, activation))
        self.ending = nn.Conv2d(width, folded, 3, padding=1)
        self.add_memories(memories)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, (h, w) = pad_to_multiple(x, self.size_multiple)
        folded = F.pixel_unshuffle(padded, self.unshuffle) if self.unshuffle > 1 else padded
        feature = self.attach("input", self.intro(folded))
        skips = []
        for level, (encoder, down) in enumerate(zip(self.encoders, self.downs), start=1):
            feature = self.attach(f"encoder{level}", encoder(feature))
            skips.append(feature)
            feature = down(feature)
        feature = self.attach("bottleneck", self.middle(feature))
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            feature = decoder(up(feature) + skip)
        residual = self.ending(feature)
        if self.unshuffle > 1:
            residual = F.pixel_shuffle(residual, self.unshuffle)
        return (padded + residual)[..., :h, :w]


def fast_unet(width: int = 32, depths: list[int] | None = None, middle: int = 2,
              memories: Optional[dict[str, dict[str, Any]]] = None, global_context: bool = False) -> UNet:
    """The CPU-first backbone: a U-Net of dense 3x3 conv + ReLU residual blocks at half resolution
    (pixel-unshuffle 2), no normalisation. Defaults: width 32, depths [1, 1, 1], middle 2: of the
    sizes measured against NAFNet-w16 (RESULTS.md), the largest that stays well above twice its
    training and inference speed with a memory attached. ``global_context`` adds channel attention
    (global pooling) to the middle stack only, at 1/16 resolution: image-wide context (how much rain
    or haze the whole photo holds) for about 1 % of the speed, at the price of exact tiling; it is off
    by default so checkpoints written without it keep loading."""
    return UNet(width, [1, 1, 1] if depths is None else depths, middle, channel_attention=False, activation="relu",
                unshuffle=2, memories=memories, middle_attention=global_context)
