"""Shared fixtures: small generated images and paired folders (no files from ../shared needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memrestore.io import write_image

from .helpers import smooth_image


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def paired_root(tmp_path: Path, rng: np.random.Generator) -> Path:
    """ROOT/input and ROOT/target with 3 noisy/clean pairs of 48x64."""
    root = tmp_path / "pairs"
    for i in range(3):
        clean = smooth_image(rng)
        noisy = np.clip(clean + rng.normal(0, 0.08, clean.shape), 0, 1)
        write_image(root / "target" / f"img{i}.png", clean)
        write_image(root / "input" / f"img{i}.png", noisy)
    return root


@pytest.fixture
def timelapse_root(tmp_path: Path) -> Path:
    """ROOT/<scene>/frame_NN.png + clean.png: 3 synthetic time-lapse scenes of 4 rainy 40x40 frames."""
    from memrestore.data.synth import synthesize_pairs

    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(tmp_path / "clean" / f"s{i}.png", smooth_image(rng, 40, 40))
    synthesize_pairs(tmp_path / "clean", tmp_path / "tl", "timelapse", frames=4)
    return tmp_path / "tl"
