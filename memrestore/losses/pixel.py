"""Per-pixel reconstruction losses."""

from __future__ import annotations

import torch
from torch import nn


class L1Loss(nn.Module):
    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        return (pred - target).abs().mean()


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
