"""Helpers shared by the tests: generated photo-like images, an injected Ctrl-C, the CLI as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def smooth_image(rng: np.random.Generator, height: int = 48, width: int = 64) -> np.ndarray:
    """A smooth random float32 RGB image in [0, 1] (low-frequency pattern, photo-like)."""
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [
        0.5 + 0.4 * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * xx + rng.uniform(0.5, 2) * yy + rng.uniform()))
        for _ in range(3)
    ]
    return np.stack(channels, axis=-1).astype(np.float32)


def interrupt_at(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Make ``Trainer`` receive Ctrl-C (KeyboardInterrupt) when it is about to run step ``step + 1``."""
    from memrestore.engine.trainer import Trainer

    original = Trainer._train_step

    def train_step(self, *args):
        if self.step == step:
            monkeypatch.setattr(Trainer, "_train_step", original)
            raise KeyboardInterrupt
        original(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", train_step)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The ``memrestore`` command in a fresh interpreter, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "memrestore.cli.main", *args], capture_output=True, text=True, cwd=cwd)
