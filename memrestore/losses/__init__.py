"""Training losses, registered by name and combined with weights from the config.

Every loss is an ``nn.Module`` called as ``loss(pred, target, degraded)``; pixel losses ignore
``degraded``, contrastive losses use it as the negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import Registry

if TYPE_CHECKING:
    from torch import nn

LOSSES = Registry(
    "loss",
    {
        "l1": "memrestore.losses.pixel:L1Loss",
        "degradation_weighted_l1": "memrestore.losses.pixel:DegradationWeightedL1Loss",
        "mse": "memrestore.losses.pixel:MSELoss",
        "charbonnier": "memrestore.losses.pixel:CharbonnierLoss",
        "edge": "memrestore.losses.edge:EdgeLoss",
        "contrastive": "memrestore.losses.contrastive:ContrastiveLoss",
        "contrastive_global": "memrestore.losses.contrastive:GlobalContrastiveLoss",
    },
)


def build_loss(name: str, **options) -> "nn.Module":
    from ..config import check_options

    factory = LOSSES.get(name)
    return factory(**check_options(factory, options, f"loss {name!r}"))


__all__ = ["LOSSES", "build_loss"]
