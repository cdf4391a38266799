"""Learning-rate schedules as multipliers of the base rate, for ``torch.optim.lr_scheduler.LambdaLR``."""

from __future__ import annotations

import math
from typing import Callable

from ..config import SchedulerConfig


def lr_multiplier(config: SchedulerConfig, base_lr: float, total_iters: int) -> Callable[[int], float]:
    """Linear warm-up over ``warmup_iters``, then ``constant``, ``cosine`` (to ``min_lr``) or
    ``multistep`` decay."""
    warmup = max(0, config.warmup_iters)
    floor = min(1.0, config.min_lr / base_lr) if base_lr > 0 else 0.0

    def multiplier(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if config.name == "constant":
            return 1.0
        if config.name == "multistep":
            return config.gamma ** sum(step >= m for m in config.milestones)
        progress = min(1.0, (step - warmup) / max(1, total_iters - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return multiplier
