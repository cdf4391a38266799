"""A small residual U-Net: the baseline restoration network and the demo model.

Layout follows NAFNet's plain encoder-decoder (Chen et al., ECCV 2022): a 3x3 intro conv, per level a
stack of residual blocks then a stride-2 conv that doubles channels, a middle stack, and per level a
1x1 conv + pixel-shuffle upsampling whose output is *added* to the skip feature. The network predicts
a residual that is added to the degraded input.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import pad_to_multiple, stack


class UNet(nn.Module):
    """Residual U-Net; ``depths[i]`` blocks at level i, ``width`` channels at full resolution;
    ``channel_attention=False`` gives a finite receptive field (tiles exactly)."""

    def __init__(
        self, width: int = 24, depths: list[int] | None = None, middle: int = 2, in_channels: int = 3,
        channel_attention: bool = True,
    ) -> None:
        super().__init__()
        depths = [2, 2] if depths is None else list(depths)
        self.size_multiple = 2 ** len(depths)
        self.intro = nn.Conv2d(in_channels, width, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = (nn.ModuleList() for _ in range(4))
        channels = width
        for depth in depths:
            self.encoders.append(stack(channels, depth, channel_attention))
            self.downs.append(nn.Conv2d(channels, channels * 2, 2, stride=2))
            channels *= 2
        self.middle = stack(channels, middle, channel_attention)
        for depth in reversed(depths):
            self.ups.append(nn.Sequential(nn.Conv2d(channels, channels * 2, 1), nn.PixelShuffle(2)))
            channels //= 2
            self.decoders.append(stack(channels, depth, channel_attention))
        self.ending = nn.Conv2d(width, in_channels, 3, padding=1)

    def bottleneck(self, feature: torch.Tensor) -> torch.Tensor:
        """Hook on the lowest-resolution feature (identity here; MGID reads its memory there)."""
        return feature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded, (h, w) = pad_to_multiple(x, self.size_multiple)
        feature = self.intro(padded)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            feature = encoder(feature)
            skips.append(feature)
            feature = down(feature)
        feature = self.bottleneck(self.middle(feature))
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            feature = decoder(up(feature) + skip)
        return (padded + self.ending(feature))[..., :h, :w]
