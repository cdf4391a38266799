"""The parts of a training run, built from a validated Config: the model (optionally fine-tuned from
weights), its EMA and MCLIR negatives, the weighted losses, the datasets, optimizer, learning-rate
schedule and loss scaler. Building them is separate from running the loop (``trainer.py``), so each
part can be built and checked alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..checkpoint import load_initial_weights
from ..config import Config
from ..data import build_dataset
from ..errors import ConfigError
from ..losses import build_loss
from ..models import model_from_config
from ..models.interface import RestorationModel
from ..tensors import memory_format
from .ema import ModelEMA
from .schedule import TermSchedule, lr_multiplier
from .spn import SelfPriorNegatives


class LossSet(nn.Module):
    """Weighted sum of the configured loss terms (each on every stage output or on the final one),
    plus whatever ``auxiliary_losses()`` the model reports for its last forward pass (already weighted).
    Given the optimizer ``step``, a term with a schedule (``start``/``every``) counts only on its steps,
    weighted x ``every`` there; without a step every term counts at its plain weight."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.specs = [(loss.name, loss.weight, loss.stages, TermSchedule.of(loss.start, loss.every, config.train.iterations))
                      for loss in config.train.losses]
        self.terms = nn.ModuleList(build_loss(loss.name, **loss.options) for loss in config.train.losses)

    def forward(self, outputs: Any, target: torch.Tensor, degraded: torch.Tensor,
                model: RestorationModel | None = None, step: int | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        stages = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        total = torch.zeros((), device=target.device)
        parts: dict[str, torch.Tensor] = {}
        for (name, weight, which, schedule), term in zip(self.specs, self.terms):
            if step is not None and not schedule.active(step):
                continue
            used = stages if which == "all" else stages[-1:]
            value = sum(term(stage.float(), target, degraded) for stage in used)
            parts[name] = parts.get(name, 0.0) + value.detach()
            total = total + weight * (schedule.scale if step is not None else 1) * value
        for name, value in (model.auxiliary_losses() if model is not None else {}).items():
            parts[name] = value.detach()
            total = total + value
        return total, parts


@dataclass
class TrainingParts:
    model: RestorationModel
    ema: ModelEMA | None
    spn: SelfPriorNegatives | None
    losses: LossSet
    train_set: Dataset
    val_set: Dataset | None
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    memory_format: torch.memory_format  # of the model's weights; inputs are laid out the same way


def check_runtime(config: Config, device: torch.device) -> None:
    """What can only be checked once the device is known (everything else is checked on loading)."""
    if config.train.amp == "fp16" and device.type != "cuda":
        raise ConfigError("train.amp fp16 needs CUDA; on CPU use bf16")
    if config.train.tensorboard:
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError as exc:
            raise ConfigError("train.tensorboard needs the tensorboard package: pip install tensorboard") from exc


def build_parts(config: Config, device: torch.device, main: bool = True, init: str | Path | None = None) -> TrainingParts:
    """Every part of a run on ``device``; the validation set only on the ``main`` rank. Call after
    seeding, so the initial weights are the seed's."""
    cfg = config.train
    layout = memory_format(cfg.channels_last)
    model = model_from_config(config.model)
    if init is not None:
        load_initial_weights(model, init)
    model.to(device, memory_format=layout)
    opt = cfg.optimizer
    optimizer_class = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[opt.name]
    optimizer = optimizer_class(model.parameters(), lr=opt.lr, betas=tuple(opt.betas), weight_decay=opt.weight_decay)
    return TrainingParts(
        model=model,
        ema=ModelEMA(model, cfg.ema) if cfg.ema > 0 else None,
        spn=SelfPriorNegatives(model, config.model.spn, cfg.iterations).to(device) if config.model.spn.enabled else None,
        losses=LossSet(config).to(device),
        train_set=build_dataset(config.data.train, config.seed, training=True),
        val_set=build_dataset(config.data.val, config.seed, training=False) if config.data.val and main else None,
        optimizer=optimizer,
        scheduler=torch.optim.lr_scheduler.LambdaLR(optimizer, lr_multiplier(cfg.scheduler, opt.lr, cfg.iterations)),
        scaler=torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16"),
        memory_format=layout,
    )
