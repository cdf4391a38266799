"""Regions of an image as fractions ([left, top, right, bottom]): checked, cut to the nearest pixel,
and used by `fit-preset --crop` to fit a renderer to one part of the real pairs only."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from memrestore.data import degrade
from memrestore.data.region import crop, region_error
from memrestore.io import write_image

from tests.helpers import run_cli


def test_a_region_is_four_ordered_fractions():
    assert region_error([0, 0, 0.5, 1]) is None and region_error((0.25, 0.1, 0.75, 0.9)) is None
    assert "not four numbers" in region_error([0, 0, 1])
    assert "not four numbers" in region_error([0, 0, "1", 1]) and "not four numbers" in region_error([0, 0, True, 1])
    assert "0 <= left < right <= 1" in region_error([0.5, 0, 0.5, 1])  # empty
    assert "0 <= left < right <= 1" in region_error([0, 0, 1, 1.2])


def test_crop_cuts_to_the_nearest_pixel():
    image = np.arange(10 * 20).reshape(10, 20)
    left, right = crop(image, [0, 0, 0.5, 1]), crop(image, [0.5, 0, 1, 1])
    assert left.shape == right.shape == (10, 10) and np.array_equal(np.concatenate([left, right], axis=1), image)
    assert crop(np.zeros((10, 20, 3)), [0.26, 0.1, 0.74, 0.5]).shape == (4, 10, 3)  # 5.2 -> 5, 14.8 -> 15 px


def test_fit_preset_fits_only_the_region_it_is_given(tmp_path):
    clean = np.tile(np.linspace(0.1, 0.6, 256, dtype=np.float32)[None, :, None], (192, 1, 3))
    clean += 0.2 * np.sin(np.arange(192, dtype=np.float32) / 5.0)[:, None, None]
    left = degrade.add_rain(clean[:, :128], np.random.default_rng(0), ranges={"composite": "add"},
                            params=[degrade.RainParams(density=0.006, length=20, angle=-15.0, width=0.6, intensity=0.6)])
    right = degrade.add_rain(clean[:, 128:], np.random.default_rng(1), ranges={"composite": "add"},
                             params=[degrade.RainParams(density=0.006, length=20, angle=20.0, width=0.6, intensity=0.6)])
    write_image(tmp_path / "real" / "input" / "a.png", np.concatenate([left, right], axis=1))
    write_image(tmp_path / "real" / "target" / "a.png", clean)
    preset = tmp_path / "left.yaml"
    done = run_cli("fit-preset", str(tmp_path / "real"), "--crop", "0", "0", "0.5", "1", "-o", str(preset))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(preset.read_text())
    assert document["estimates"]["input/a.png"]["angle"] == pytest.approx(-15.0, abs=3.0)  # the left half's rain only
    assert document["fitted_on"] == "real (region [0.0, 0.0, 0.5, 1.0])"
    failed = run_cli("fit-preset", str(tmp_path / "real"), "--crop", "0.5", "0", "0.5", "1", "-o", str(tmp_path / "x.yaml"))
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "--crop [0.5, 0.0, 0.5, 1.0] is not" in failed.stderr
