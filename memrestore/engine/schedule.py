"""Schedules: learning-rate multipliers of the base rate (for ``torch.optim.lr_scheduler.LambdaLR``)
and the steps on which an expensive loss term is applied (``TermSchedule``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TermSchedule:
    """When a loss term is used: from ``start`` (a fraction of the run's ``iterations``) on, on every
    ``every``-th optimizer step, with its weight multiplied by ``scale`` (= ``every``) on those steps so
    that on average it pushes as hard as the same term applied on every step. Shared by the
    configured losses (``train.losses[].every/start``) and MCLIR's SPN term (``model.spn``)."""

    start_step: int
    every: int

    @classmethod
    def of(cls, start: float, every: int, iterations: int) -> "TermSchedule":
        return cls(int(math.ceil(start * iterations)), every)

    @property
    def scale(self) -> int:
        return self.every

    def active(self, step: int) -> bool:
        """Whether the term is used at (0-based) optimizer step ``step``."""
        return step >= self.start_step and (step - self.start_step) % self.every == 0
