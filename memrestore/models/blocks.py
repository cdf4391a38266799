"""Small building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn


def zero_conv(cin: int, cout: int) -> nn.Conv2d:
    """A 1x1 conv that starts at zero (a fused branch adds nothing until it is trained)."""
    conv = nn.Conv2d(cin, cout, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation channel attention (global pool -> bottleneck -> sigmoid gate)."""

    def __init__(self, channels: int, reduction: int = 4, bias: bool = True) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1, bias=bias),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=bias),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


class ResidualBlock(nn.Module):
    """conv3x3 -> GELU (or ReLU) -> conv3x3 -> channel attention, added to the input with a learnable scale.

    The scale starts at zero (as NAFNet's beta), so a fresh network is close to the identity and
    training on CPU-sized budgets starts stable. Channel attention pools globally, which makes the
    receptive field the whole image; ``attention=False`` keeps it finite (exactly tileable).
    """

    def __init__(self, channels: int, reduction: int = 4, attention: bool = True, activation: str = "gelu") -> None:
        super().__init__()
        layers = [nn.Conv2d(channels, channels, 3, padding=1), ACTIVATIONS[activation](),
                  nn.Conv2d(channels, channels, 3, padding=1)]
        if attention:
            layers.append(ChannelAttention(channels, reduction))
        self.body = nn.Sequential(*layers)
        self.scale = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * self.body(x)


def stack(channels: int, count: int, attention: bool = True, activation: str = "gelu") -> nn.Sequential:
    return nn.Sequential(*(ResidualBlock(channels, attention=attention, activation=activation) for _ in range(count)))
