"""The config-driven training loop.

A run folder (``<output_dir>/<name>/``) receives ``config.yaml``, ``log.jsonl``, ``resume.safetensors``
(the complete training state: weights, optimizer, scheduler, loss scaler, EMA, RNG, step) and
inference checkpoints ``last``, ``best`` and ``model`` (plus ``model_ema`` when EMA is on), each
``.safetensors`` with a JSON sidecar. Every file is replaced atomically, so a run killed at any moment
resumes from its last checkpoint (``memrestore train --resume RUN_DIR``) and continues exactly as an
uninterrupted run would: the data position is a function of the step (``ResumableSampler``).

Order of one cycle: train step s, validation at s (log row, ``best``), then the resume state of s,
which therefore already holds that validation's outcome; a kill anywhere before the state is saved
redoes the steps since the previous state, validation included, and the log is cut back to that state.
The end of a run writes ``model``, then the summary row, then a state marked finished, so resuming a
finished run changes nothing. Training seconds accumulate over resumed sessions.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..checkpoint import save_checkpoint
from ..config import Config
from ..device import resolve_device
from ..errors import ConfigError, Interrupted, MemrestoreError
from ..inference import run_model
from ..io import ensure_dir, write_image
from ..io.atomic import atomic_write_text, remove_stale_temporaries
from ..models import final_output
from ..tensors import chw_to_hwc
from ..visualize import comparison_grid
from .distributed import DistContext, ResumableSampler, init_distributed
from .evaluate import evaluate_model
from .logger import RunLogger, truncate_log
from .parts import build_parts, check_runtime
from .state import load_state, rng_state, save_state, seed_everything, set_rng_state

RESUME_FILE = "resume.safetensors"
log = logging.getLogger("memrestore")


class FinalWeights(NamedTuple):
    """The weights a finished run stands for: the EMA average when ``train.ema`` is on, else the
    trained ones; with their inference checkpoint and the validation PSNR key they are logged under."""

    module: nn.Module
    checkpoint: Path
    psnr_key: str


class Trainer:
    """Train the model described by a ``Config``; ``fit()`` returns the run folder.

    ``resume=True`` continues the run in ``config.run_dir`` from its ``resume.safetensors``;
    ``overwrite=True`` allows starting afresh in a folder that already holds a run; ``init`` is a
    weights file to fine-tune from.
    """

    def __init__(self, config: Config, progress: bool = True, resume: bool = False, overwrite: bool = False,
                 init: str | Path | None = None) -> None:
        self.config = config
        cfg = config.train
        self.dist: DistContext = init_distributed()
        self.main = self.dist.is_main
        self.progress = progress and self.main
        self.run_dir = config.run_dir
        if not resume and not overwrite and (self.run_dir / RESUME_FILE).exists():
            raise ConfigError(
                f"{self.run_dir}: already holds a run; continue it with --resume, or pass --overwrite, "
                "or choose another name (--set name=...)"
            )
        if self.main and (stale := remove_stale_temporaries(self.run_dir)):
            log.info("%s: removed %d temporary file(s) left by an interrupted write", self.run_dir, len(stale))
        if self.dist.enabled and torch.cuda.is_available():
            self.device = torch.device("cuda", self.dist.local_rank)
        else:
            self.device = resolve_device(config.device)
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
        check_runtime(config, self.device)
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)

        seed_everything(config.seed)  # identical initial weights on every rank
        parts = build_parts(config, self.device, self.main, init)
        self.model, self.ema, self.spn, self.losses = parts.model, parts.ema, parts.spn, parts.losses
        self.train_set, self.val_set = parts.train_set, parts.val_set
        self.optimizer, self.scheduler, self.scaler = parts.optimizer, parts.scheduler, parts.scaler
        self.memory_format = parts.memory_format
        self.net: nn.Module = self.model
        if self.dist.enabled:
            ids = [self.dist.local_rank] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        if cfg.compile:
            self.net = torch.compile(self.net)
        self.step = 0
        self.best_psnr = -math.inf
        self.validated_step = -1  # step of the last validation (-1: none yet)
        self.last_scores: dict[str, float] = {}
        self.skipped = 0  # steps skipped for a non-finite loss
        self.last_terms: dict[str, float] = {}  # each loss term's latest value (SPN with every > 1 skips steps)
        self.seconds_before = 0.0  # training time of earlier sessions of this run
        self.session_start = time.perf_counter()
        self.validation_seconds = 0.0  # time of this session spent validating (not training)
        self.finished = False
        self.summary: dict[str, Any] = {}
        self.data_wait = 0.0
        if resume:
            self._load_resume_state()

    # -- state ----------------------------------------------------------------------------------
    def _training_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "best_psnr": self.best_psnr,
            "validated_step": self.validated_step,
            "last_scores": self.last_scores,
            "skipped": self.skipped,
            "train_seconds": self.train_seconds,
            "finished": self.finished,
            "summary": self.summary,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.state_dict() if self.ema else None,
            "spn_negatives": self.spn.negatives.state_dict() if self.spn else None,
            "rng": rng_state(),
        }

    def _load_resume_state(self) -> None:
        state = load_state(self.run_dir / RESUME_FILE)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            if state["ema"] is None:
                raise ConfigError(f"{self.run_dir}: the saved run has no EMA; keep train.ema at 0 to resume it")
            self.ema.load_state_dict(state["ema"])
        if self.spn is not None:
            if state.get("spn_negatives") is None:
                raise ConfigError(f"{self.run_dir}: the saved run did not use SPN; keep model.spn.enabled false to resume it")
            self.spn.negatives.load_state_dict(state["spn_negatives"])
        set_rng_state(state["rng"])
        self.step, self.best_psnr = state["step"], state["best_psnr"]
        self.validated_step = state.get("validated_step", -1)
        self.last_scores = state.get("last_scores", {})
        self.skipped = state.get("skipped", 0)
        self.seconds_before = state.get("train_seconds", 0.0)
        self.finished = state.get("finished", False)
        self.summary = state.get("summary", {})

    @property
    def train_seconds(self) -> float:
        """Training time of this run over all its sessions, validation excluded (what equal-time
        comparisons budget)."""
        return self.seconds_before + time.perf_counter() - self.session_start - self.validation_seconds

    @property
    def final_weights(self) -> FinalWeights:
        """What to score, store and chart for this run (``model_ema`` when EMA is on, else ``model``)."""
        if self.ema is not None:
            return FinalWeights(self.ema.module, self.run_dir / "model_ema.safetensors", "val_ema_psnr")
        return FinalWeights(self.model, self.run_dir / "model.safetensors", "val_psnr")

    def psnr_curve(self) -> list[list[float]]:
        """[training seconds, validation PSNR] of the final weights at every logged validation."""
        key = self.final_weights.psnr_key
        records = [json.loads(line) for line in (self.run_dir / "log.jsonl").read_text().splitlines()]
        return [[r["train_seconds"], r[key]] for r in records if key in r and "train_seconds" in r]

    def save_checkpoint(self) -> None:
        """Write the resume state, then the inference checkpoint ``last`` (rank 0 only)."""
        if not self.main:
            return
        save_state(self.run_dir / RESUME_FILE, self._training_state())
        save_checkpoint(self.run_dir / "last", self.model, self.config, step=self.step)

    # -- data -----------------------------------------------------------------------------------
    def _batches(self) -> Iterator[dict[str, Any]]:
        """Batches from the current step on, cropped at the patch size in effect now."""
        cfg = self.config.data.train
        self.train_set.patch_size = cfg.patch_size_at(self.step)
        sampler = ResumableSampler(
            len(self.train_set), cfg.batch_size, self.config.seed,
            start_batch=self.step * self.config.train.accumulate,
            rank=self.dist.rank, world_size=self.dist.world_size,
        )
        loader = DataLoader(
            self.train_set, batch_size=cfg.batch_size, sampler=sampler, drop_last=True,
            num_workers=cfg.num_workers, persistent_workers=cfg.num_workers > 0,
        )
        return iter(loader)

    # -- validation -----------------------------------------------------------------------------
    def validate(self, logger: RunLogger) -> dict[str, float] | None:
        if self.val_set is None:
            return None
        started, train_seconds = time.perf_counter(), round(self.train_seconds, 2)
        try:
            return self._validate(logger, train_seconds)
        finally:
            self.validation_seconds += time.perf_counter() - started

    def _validate(self, logger: RunLogger, train_seconds: float) -> dict[str, float]:
        ev = self.config.eval
        scores = evaluate_model(self.model, self.val_set, ev.convention, ev.crop_border)
        record: dict[str, Any] = {"step": self.step, "train_seconds": train_seconds, "val_psnr": scores["psnr"],
                                  "val_ssim": scores["ssim"]}
        if self.ema is not None:
            ema_scores = evaluate_model(self.ema.module, self.val_set, ev.convention, ev.crop_border)
            record.update(val_ema_psnr=ema_scores["psnr"], val_ema_ssim=ema_scores["ssim"])
        logger.scalars({**record, "convention": ev.convention})
        if scores["psnr"] > self.best_psnr:
            save_checkpoint(self.run_dir / "best", self.model, self.config, step=self.step, metrics=record)
            self.best_psnr = scores["psnr"]
        self._write_samples(logger)
        self.validated_step, self.last_scores = self.step, dict(scores)  # last: an interrupted one is redone
        return scores

    def _validation_due(self) -> bool:
        cfg = self.config.train
        return self.main and bool(cfg.val_every) and 0 < self.step < cfg.iterations and self.step % cfg.val_every == 0

    def _write_samples(self, logger: RunLogger) -> None:
        count = min(self.config.train.samples, len(self.val_set))
        if count <= 0:
            return
        labels = ["input", "restored", *(["ema"] if self.ema is not None else []), "target"]
        rows: dict[str, list[np.ndarray]] = {label: [] for label in labels}
        for i in range(count):
            item = self.val_set[i]
            rows["input"].append(chw_to_hwc(item["input"]))
            rows["restored"].append(chw_to_hwc(run_model(self.model, item["input"][None])[0]))
            if self.ema is not None:
                rows["ema"].append(chw_to_hwc(run_model(self.ema.module, item["input"][None])[0]))
            rows["target"].append(chw_to_hwc(item["target"]))
        grid = comparison_grid(rows, height=160)
        write_image(self.run_dir / "samples" / f"step_{self.step:07d}.png", grid)
        logger.image("samples", grid, self.step)

    # -- loop -----------------------------------------------------------------------------------
    def fit(self) -> Path:
        cfg = self.config.train
        if self.finished and self.step >= cfg.iterations:
            log.info("%s: this run finished at step %d; nothing to do (raise train.iterations to continue it)",
                     self.run_dir, self.step)
            return self.run_dir
        self.finished = False  # more iterations than a finished run had: it goes on
        if self.main:
            ensure_dir(self.run_dir)
            atomic_write_text(self.run_dir / "config.yaml", yaml.safe_dump(self.config.to_dict(), sort_keys=False))
            if self.step == 0:
                (self.run_dir / "log.jsonl").unlink(missing_ok=True)
            else:
                truncate_log(self.run_dir / "log.jsonl", self.step, validated=self.validated_step == self.step)
        logger = RunLogger(self.run_dir, self.main, cfg.tensorboard)
        self.model.train()
        batches = self._batches()
        bar = tqdm(total=cfg.iterations, initial=self.step, desc=f"train {self.config.name}", unit="it",
                   disable=not self.progress)
        self.session_start, self.validation_seconds, first_step = time.perf_counter(), 0.0, self.step
        try:
            if self._validation_due() and self.validated_step != self.step:
                self.validate(logger)  # interrupted during this step's validation: redo it
            while self.step < cfg.iterations:
                self._train_step(batches, bar, logger)
                if self.config.data.train.patch_size_at(self.step) != self.train_set.patch_size:
                    batches = self._batches()  # progressive patch size: a new loader from this step
                if self._validation_due():
                    self.validate(logger)
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
        except KeyboardInterrupt:
            self.save_checkpoint()
            raise Interrupted(
                f"interrupted at step {self.step}; state saved, continue with: memrestore train --resume {self.run_dir}"
            ) from None
        except torch.cuda.OutOfMemoryError:
            raise MemrestoreError(
                f"out of GPU memory at step {self.step + 1}: lower data.train.batch_size or data.train.patch_size, "
                "or set train.amp=bf16 / train.accumulate=2"
            ) from None
        finally:
            bar.close()
        elapsed = time.perf_counter() - self.session_start
        summary: dict[str, Any] = {
            "steps": self.step,
            "seconds": round(self.train_seconds, 2),
            "images_per_second": round((self.step - first_step) * cfg.accumulate
                                       * self.config.data.train.batch_size * self.dist.world_size / max(elapsed, 1e-9), 2),
            "data_wait_fraction": round(self.data_wait / max(elapsed, 1e-9), 4),
            "skipped_steps": self.skipped,
        }
        if self.dist.enabled:
            summary["replica_max_abs_diff"] = self._replica_difference()
        if self.main:
            if self.validated_step != self.step:
                self.validate(logger)
            if self.last_scores:
                summary.update(val_psnr=self.last_scores["psnr"], val_ssim=self.last_scores["ssim"],
                               convention=self.config.eval.convention)
            save_checkpoint(self.run_dir / "model", self.model, self.config, step=self.step, metrics=summary)
            if self.ema is not None:
                save_checkpoint(self.run_dir / "model_ema", self.ema.module, self.config, step=self.step)
            logger.scalars({"step": self.step, "summary": summary})
            self.finished = True
            self.summary = summary  # saved with the finished state below
            self.save_checkpoint()
        logger.close()
        self.summary = summary
        return self.run_dir

    def _replica_difference(self) -> float:
        """Largest parameter difference between any rank and rank 0 (0.0 when DDP is in sync)."""
        flat = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()])
        reference = flat.clone()
        dist.broadcast(reference, src=0)
        difference = (flat - reference).abs().max()
        dist.all_reduce(difference, op=dist.ReduceOp.MAX)
        return float(difference)

    def _unpack(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Input and target on the device. Time-lapse batches (B scenes x F frames) are flattened to
        B*F images, and a model that uses batch structure (``set_batch_groups``, e.g. MGID's BSW
        loss) is told which images share a scene."""
        degraded, target = batch["input"], batch["target"]
        groups = None
        if degraded.ndim == 5:
            groups = batch["scene"].repeat_interleave(degraded.shape[1]).to(self.device)
            degraded, target = degraded.flatten(0, 1), target.flatten(0, 1)
        self.model.set_batch_groups(groups)
        degraded = degraded.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        return degraded, target.to(self.device, non_blocking=True)

    def _train_step(self, batches: Iterator[dict[str, Any]], bar: tqdm, logger: RunLogger) -> None:
        cfg = self.config.train
        self.optimizer.zero_grad(set_to_none=True)
        totals: dict[str, float] = {}
        loss_sum = 0.0
        finite = True
        for micro in range(cfg.accumulate):
            t0 = time.perf_counter()
            batch = next(batches)
            self.data_wait += time.perf_counter() - t0
            degraded, target = self._unpack(batch)
            last = micro == cfg.accumulate - 1
            sync = self.net.no_sync() if self.dist.enabled and not last and hasattr(self.net, "no_sync") else contextlib.nullcontext()
            with sync:
                autocast = torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)
                with autocast:
                    outputs = self.net(degraded)
                    negatives = self.spn.negative_outputs(degraded) if self.spn and self.spn.active(self.step) else None
                loss, parts = self.losses(outputs, target, degraded, self.model, step=self.step)
                if negatives is not None:
                    spn_loss = self.spn.loss(final_output(outputs).float(), target, negatives)
                    parts["spn"] = spn_loss.detach()
                    loss = loss + spn_loss
                finite = finite and bool(torch.isfinite(loss))
                if not finite:
                    if not cfg.skip_nonfinite:
                        bad = next((n for n, v in parts.items() if not torch.isfinite(v)), "total")
                        raise MemrestoreError(
                            f"non-finite loss at step {self.step + 1} (term {bad!r}); lower train.optimizer.lr, "
                            "set train.grad_clip, or train.skip_nonfinite=true"
                        )
                    break
                self.scaler.scale(loss / cfg.accumulate).backward()
            loss_sum += float(loss.detach()) / cfg.accumulate
            for name, value in parts.items():
                totals[name] = totals.get(name, 0.0) + float(value) / cfg.accumulate
        if self.dist.enabled and cfg.skip_nonfinite:  # every rank must agree to skip
            flag = torch.tensor(float(finite), device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
            finite = bool(flag)
        if finite:
            if cfg.grad_clip > 0:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if self.ema is not None:
                self.ema.update(self.model)
            if self.spn is not None:
                self.spn.refresh(self.step + 1, self.model)
        else:
            self.optimizer.zero_grad(set_to_none=True)
            self.skipped += 1
            logger.scalars({"step": self.step + 1, "skipped": "non-finite loss"})
            if self.skipped > cfg.max_skipped * cfg.iterations:
                raise MemrestoreError(
                    f"{self.skipped} steps skipped for a non-finite loss by step {self.step + 1}, more than "
                    f"train.max_skipped={cfg.max_skipped} of {cfg.iterations}; lower train.optimizer.lr or set train.grad_clip"
                )
        with warnings.catch_warnings():  # a skipped step legitimately advances the schedule alone
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            self.scheduler.step()
        self.step += 1
        self.last_terms.update(totals)
        bar.update(1)
        if self.step % max(1, cfg.log_every) == 0 or self.step == 1:
            lr = self.optimizer.param_groups[0]["lr"]
            bar.set_postfix(loss=f"{loss_sum:.4f}", lr=f"{lr:.2e}")
            logger.scalars({"step": self.step, "loss": loss_sum, "lr": lr, **{f"loss_{k}": v for k, v in self.last_terms.items()}})
