"""Fitting the raindrop renderer to raindrop pairs: count and size of rendered drops are recovered from
the detail they erase, a shift of the scene alone is not read as drops, and a fitted preset round-trips
through ``fit-preset`` into ``synth``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from skimage import data

from memrestore.data.degrade.raindrop import RaindropParams, add_raindrops
from memrestore.data.degrade.raindrop_fit import (FITTER, MATCHING, RaindropEstimate, drop_statistics,
                                                  estimate_raindrops, fit_ranges)
from memrestore.data.presets import preset_ranges
from memrestore.io import write_image

from tests.helpers import run_cli


def photo() -> np.ndarray:
    return (data.astronaut() / 255.0).astype(np.float32)


def drops(clean: np.ndarray, count: int, radius_max: float, seed: int = 7) -> np.ndarray:
    params = RaindropParams(count=count, radius=(radius_max / 4, radius_max), **MATCHING)
    return np.round(add_raindrops(clean, np.random.default_rng(seed), params=params)[0] * 255) / 255


def test_estimate_recovers_the_drops_rendered():
    clean = photo()
    found = estimate_raindrops(drops(clean, 60, 0.06), clean)
    assert found.radius_max == pytest.approx(0.06, rel=0.15)
    assert found.count == pytest.approx(60, rel=0.35)  # one random set of drops: coverage varies from draw to draw
    assert FITTER.left_out(found) is None
    more = estimate_raindrops(drops(clean, 150, 0.06), clean)
    assert more.count > 1.5 * found.count and more.coverage > found.coverage


def test_a_shift_is_not_read_as_drops():
    clean = photo()
    shifted = np.roll(clean, 3, axis=1)  # two shots of one scene: edges move, detail stays
    assert drop_statistics(shifted, clean)["coverage"] < 0.02
    assert "no drops" in FITTER.left_out(estimate_raindrops(clean, clean))


def test_fitted_ranges_cover_the_estimates():
    estimates = [RaindropEstimate(count=40, radius_max=0.12, coverage=0.3, size=0.06),
                 RaindropEstimate(count=95, radius_max=0.11, coverage=0.5, size=0.06)]
    ranges = fit_ranges(estimates, widen=0.25)
    assert ranges["count"][0] < 40 and ranges["count"][1] > 95
    assert ranges["radius_max"][0] < 0.11 and ranges["radius_max"][1] > 0.12


def test_fit_preset_writes_a_raindrop_preset_that_synth_renders(tmp_path):
    clean = photo()[:256, :384]  # small: the round trip, not the accuracy, is tested here
    write_image(tmp_path / "real" / "input" / "a.png", drops(clean, 80, 0.08))
    write_image(tmp_path / "real" / "target" / "a.png", clean)
    write_image(tmp_path / "clean" / "a.png", clean[:200, :240])
    preset = tmp_path / "drops.yaml"
    done = run_cli("fit-preset", str(tmp_path / "real"), "--task", "raindrop", "-o", str(preset))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(preset.read_text())
    assert document["task"] == "raindrop" and preset.with_suffix(".png").is_file()
    low, high = preset_ranges("raindrop", str(preset))["radius_max"]
    assert low < document["estimates"]["input/a.png"]["radius_max"] < high
    made = run_cli("synth", "--task", "raindrop", "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "synth"),
                   "--preset", str(preset))
    assert made.returncode == 0, made.stderr
