"""Packaged default models: found by task (API and `restore --task`), listed with their card metrics
by `memrestore models`, and a one-line error for a task without one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import memrestore
from memrestore.pretrained import TASKS, model_cards
from memrestore.io import read_image, write_image

from tests.helpers import run_cli, smooth_image

FIXTURE = Path(__file__).parent / "fixtures" / "unet_previous_release.safetensors"


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A models folder with a derain default (a small U-Net checkpoint) and its card."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "derain.safetensors")
    card = {"summary": "unet w8 (test model)", "metrics": {"Rain12": {"psnr": 31.0, "input_psnr": 30.13, "convention": "y-matlab"}}}
    (folder / "derain.json").write_text(json.dumps(card))
    monkeypatch.setenv("MEMRESTORE_MODELS", str(folder))
    return folder


def test_load_by_task_and_restore_by_task(tmp_path, rng, zoo):
    by_task = memrestore.load("derain", device="cpu")
    by_path = memrestore.load(zoo / "derain.safetensors", device="cpu")
    image = (smooth_image(rng) * 255).astype(np.uint8)
    assert np.array_equal(by_task(image), by_path(image))
    write_image(tmp_path / "in" / "photo.png", image)
    done = run_cli("restore", str(tmp_path / "in" / "photo.png"), "-o", str(tmp_path / "out"), "--task", "derain")
    assert done.returncode == 0, done.stderr
    assert np.array_equal(read_image(tmp_path / "out" / "photo.png").pixels, by_path(image))


def test_models_lists_cards_and_missing_tasks(zoo):
    assert set(model_cards()) == {"derain"}
    listed = run_cli("models")
    assert listed.returncode == 0 and "unet w8 (test model)" in listed.stdout and "Rain12: 31.00 dB vs input 30.13 (y-matlab)" in listed.stdout
    assert listed.stdout.count("not packaged yet") == len(TASKS) - 1


def test_a_task_without_a_default_is_one_line(tmp_path, rng, zoo):
    write_image(tmp_path / "in" / "photo.png", smooth_image(rng))
    done = run_cli("restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--task", "dehaze")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no packaged model for task 'dehaze'" in done.stderr and "packaged: derain" in done.stderr
    both = run_cli("restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--task", "derain", "--checkpoint", "x")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_every_packaged_default_restores_a_small_image(rng):
    cards = model_cards()
    if not cards:
        pytest.skip("no default models are packaged yet (issue 14 trains them)")
    for task, card in cards.items():
        restored = memrestore.load(task, device="cpu")(smooth_image(rng, 40, 56))
        assert restored.shape == (40, 56, 3) and np.isfinite(restored).all(), task
