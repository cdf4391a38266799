"""The config-driven training loop.

Writes into ``<output_dir>/<name>/``: ``config.yaml`` (the validated config), ``log.jsonl`` (one JSON
record per logged step and per validation), ``last.safetensors`` every ``checkpoint_every`` steps,
``best.safetensors`` at the best validation PSNR, and ``model.safetensors`` at the end. Every file is
replaced atomically, so a killed run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..api import build_model
from ..checkpoint import save_checkpoint
from ..config import Config, DatasetConfig
from ..data.paired import PairedImageDataset
from ..device import resolve_device
from ..errors import ConfigError, MemrestoreError
from ..io.atomic import atomic_write_text
from ..losses import build_loss
from .evaluate import evaluate_model
from .schedule import lr_multiplier


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_dataset(config: DatasetConfig, seed: int, training: bool) -> PairedImageDataset:
    if config.type != "paired":
        raise ConfigError(f"data type {config.type!r} is not supported yet (supported: paired)")
    if not config.root:
        raise ConfigError("data root is empty: set data.train.root (folder with input/ and target/)")
    return PairedImageDataset(
        config.root,
        config.input_dir,
        config.target_dir,
        patch_size=config.patch_size if training else 0,
        augment=config.augment and training,
        cache=config.cache,
        seed=seed,
        repeats=64 if training else 1,
    )


class LossSet(nn.Module):
    """Weighted sum of the configured loss terms; multi-stage outputs are supervised at every stage."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.names = [loss.name for loss in config.train.losses]
        self.weights = [loss.weight for loss in config.train.losses]
        self.terms = nn.ModuleList(build_loss(loss.name, **loss.options) for loss in config.train.losses)

    def forward(self, outputs: Any, target: torch.Tensor, degraded: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        stages = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        total = torch.zeros((), device=target.device)
        parts: dict[str, float] = {}
        for name, weight, term in zip(self.names, self.weights, self.terms):
            value = sum(term(stage, target, degraded) for stage in stages)
            parts[name] = parts.get(name, 0.0) + float(value.detach())
            total = total + weight * value
        return total, parts


class Trainer:
    """Train the model described by a ``Config``; ``fit()`` returns the run folder."""

    def __init__(self, config: Config, progress: bool = True) -> None:
        self.config = config
        self.progress = progress
        self.device = resolve_device(config.device)
        self.run_dir = config.run_dir
        seed_everything(config.seed)
        self.model = build_model(config).to(self.device)
        self.losses = LossSet(config).to(self.device)
        self.train_set = make_dataset(config.data.train, config.seed, training=True)
        self.val_set = make_dataset(config.data.val, config.seed, training=False) if config.data.val else None
        opt = config.train.optimizer
        optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
        if opt.name not in optimizers:
            raise ConfigError(f"train.optimizer.name {opt.name!r} is not one of {', '.join(optimizers)}")
        self.optimizer = optimizers[opt.name](
            self.model.parameters(), lr=opt.lr, betas=tuple(opt.betas), weight_decay=opt.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_multiplier(config.train.scheduler, opt.lr, config.train.iterations)
        )
        self.step = 0
        self.best_psnr = -math.inf
        self.data_wait = 0.0

    # -- data -----------------------------------------------------------------------------------
    def _batches(self) -> Iterator[dict[str, Any]]:
        cfg = self.config.data.train
        generator = torch.Generator().manual_seed(self.config.seed)
        epoch = 0
        while True:
            self.train_set.set_epoch(epoch)
            loader = DataLoader(
                self.train_set,
                batch_size=cfg.batch_size,
                shuffle=True,
                drop_last=True,
                num_workers=cfg.num_workers,
                generator=generator,
            )
            yield from loader
            epoch += 1

    # -- bookkeeping ----------------------------------------------------------------------------
    def _log(self, record: dict[str, Any]) -> None:
        with open(self.run_dir / "log.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def _save(self, name: str, **metadata: Any) -> Path:
        return save_checkpoint(self.run_dir / name, self.model, self.config, step=self.step, **metadata)

    def validate(self) -> dict[str, float] | None:
        if self.val_set is None:
            return None
        ev = self.config.eval
        scores = evaluate_model(self.model, self.val_set, ev.convention, ev.crop_border)
        record = {"step": self.step, "val_psnr": scores["psnr"], "val_ssim": scores["ssim"], "convention": ev.convention}
        self._log(record)
        if scores["psnr"] > self.best_psnr:
            self.best_psnr = scores["psnr"]
            self._save("best", metrics=record)
        return scores

    # -- loop -----------------------------------------------------------------------------------
    def fit(self) -> Path:
        cfg = self.config.train
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "config.yaml", yaml.safe_dump(self.config.to_dict(), sort_keys=False))
        (self.run_dir / "log.jsonl").unlink(missing_ok=True)
        self.model.train()
        batches = self._batches()
        bar = tqdm(total=cfg.iterations, desc=f"train {self.config.name}", unit="it", disable=not self.progress)
        start = time.perf_counter()
        try:
            while self.step < cfg.iterations:
                t0 = time.perf_counter()
                batch = next(batches)
                self.data_wait += time.perf_counter() - t0
                self._train_step(batch, bar)
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self._save("last")
                if cfg.val_every and self.step % cfg.val_every == 0 and self.step < cfg.iterations:
                    self.validate()
        except KeyboardInterrupt:
            path = self._save("last")
            raise MemrestoreError(f"interrupted at step {self.step}; saved {path}") from None
        finally:
            bar.close()
        elapsed = time.perf_counter() - start
        scores = self.validate()
        summary = {
            "steps": self.step,
            "seconds": round(elapsed, 1),
            "data_wait_fraction": round(self.data_wait / max(elapsed, 1e-9), 4),
            **({"val_psnr": scores["psnr"], "val_ssim": scores["ssim"]} if scores else {}),
        }
        self._save("last")
        self._save("model", metrics=summary)
        self._log({"summary": summary})
        return self.run_dir

    def _train_step(self, batch: dict[str, Any], bar: tqdm) -> None:
        degraded = batch["input"].to(self.device, non_blocking=True)
        target = batch["target"].to(self.device, non_blocking=True)
        outputs = self.model(degraded)
        loss, parts = self.losses(outputs, target, degraded)
        if not torch.isfinite(loss):
            bad = next((name for name, value in parts.items() if not math.isfinite(value)), "total")
            raise MemrestoreError(f"non-finite loss at step {self.step + 1} (term {bad!r}); lower train.optimizer.lr?")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.train.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        bar.update(1)
        if self.step % max(1, self.config.train.log_every) == 0 or self.step == 1:
            lr = self.optimizer.param_groups[0]["lr"]
            value = loss.item()
            bar.set_postfix(loss=f"{value:.4f}", lr=f"{lr:.2e}")
            self._log({"step": self.step, "loss": value, "lr": lr, **{f"loss_{k}": v for k, v in parts.items()}})
