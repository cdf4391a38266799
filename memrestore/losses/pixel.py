"""Per-pixel reconstruction losses."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError


class L1Loss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        return (pred - target).abs().mean()


class DegradationWeightedL1Loss(nn.Module):
    """L1 as a weighted mean in which each pixel counts ``1 + gain * |degraded - target|`` (channel mean).

    Where a degradation covers a small part of the image (shadows, raindrops), plain L1 on random crops
    is dominated by clean pixels and a network can settle on the identity (measured on synthetic
    shadows, RESULTS.md "deshadow"). Weighting by how far the input is from the target puts the loss
    where the degradation is, needs no masks, and is plain L1 on a crop the degradation left untouched.
    Not from the three papers: a recipe choice of this toolkit, a soft degradation mask read off each
    pair instead of a mask file. On synthetic shadows it did not yet give a model that beats the input
    (20 minutes; RESULTS.md "deshadow").
    """

    def __init__(self, gain: float = 10.0) -> None:
        super().__init__()
        if gain < 0:
            raise ConfigError(f"loss degradation_weighted_l1: gain must be >= 0, got {gain}")
        self.gain = gain

    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        if degraded is None:
            raise ValueError("degradation_weighted_l1 needs the degraded input")
        weight = 1.0 + self.gain * (degraded - target).abs().mean(dim=1, keepdim=True).detach()
        return ((pred - target).abs() * weight).sum() / (weight.sum() * pred.shape[1])


class MSELoss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        return (pred - target).square().mean()


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """mean(sqrt((pred - target)^2 + eps^2)): a differentiable L1."""
    return torch.sqrt((pred - target).square() + eps * eps).mean()


class CharbonnierLoss(nn.Module):
    """Charbonnier loss with eps = 1e-3 as in MPRNet/MemoryNet's training script."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        return charbonnier(pred, target, self.eps)
