"""Fitting the haze renderer to hazy pairs: the airlight, far optical depth and near fraction haze was
rendered with are recovered, pairs that are not scattering haze are left out with why, a fitted
preset round-trips through ``fit-preset`` into ``synth``, and the hand-set ``objects`` weight is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from skimage import data

from memrestore.data import degrade
from memrestore.data.degrade.haze_fit import FITTER, HazeEstimate, estimate_haze, fit_ranges, transmission
from memrestore.data.presets import preset_ranges
from memrestore.data.synth import render
from memrestore.errors import MemrestoreError
from memrestore.io import write_image

from tests.helpers import run_cli


def photo(height: int = 240, width: int = 320) -> np.ndarray:
    return (data.astronaut()[:height, :width] / 255.0).astype(np.float32)


def test_transmission_inverts_the_scattering_model():
    clean = photo(64, 64)
    t = np.random.default_rng(0).uniform(0.1, 1.0, clean.shape[:2]).astype(np.float32)
    hazy = clean * t[..., None] + 0.8 * (1.0 - t[..., None])
    found, measured = transmission(hazy, clean, 0.8)
    assert measured.mean() > 0.5
    np.testing.assert_allclose(found[measured], t[measured], atol=1e-4)


@pytest.mark.parametrize("beta, airlight, near", [(1.6, 0.82, 0.3), (0.8, 0.95, 0.0), (2.5, 0.7, 0.5)])
def test_estimate_recovers_the_parameters_haze_was_rendered_with(beta, airlight, near):
    clean = photo()
    params = degrade.HazeParams(beta=beta, airlight=airlight, near=near)
    hazy = np.round(degrade.add_haze(clean, np.random.default_rng(2), params=params, depth_scale=1.0) * 255) / 255  # 8 bits, as read
    found = estimate_haze(hazy, clean)
    assert found.airlight == pytest.approx(airlight, abs=0.02)
    assert found.beta == pytest.approx(beta, rel=0.08)
    assert found.near == pytest.approx(near, abs=0.05)
    assert found.residual < 0.01 and FITTER.left_out(found) is None


def test_pairs_that_are_not_haze_are_left_out_with_why():
    clean = photo(120, 160)
    assert "no haze" in FITTER.left_out(estimate_haze(clean, clean))
    shifted = np.roll(clean, 7, axis=1)  # misaligned: no airlight explains it
    assert "not scattering haze" in FITTER.left_out(estimate_haze(shifted, clean))


def test_fitted_ranges_cover_the_estimates_and_widen_them():
    estimates = [HazeEstimate(airlight=a, beta=b, near=n, residual=0.0, measured=1.0)
                 for a, b, n in [(0.75, 1.0, 0.2), (0.9, 2.0, 0.3), (0.8, 1.5, 0.25)]]
    ranges = fit_ranges(estimates, widen=0.25)
    for key in ("airlight", "beta", "near"):
        values = [getattr(e, key) for e in estimates]
        assert ranges[key][0] < min(values) and ranges[key][1] > max(values)
    assert ranges["beta"] == pytest.approx([0.75, 2.4]) and ranges["depth_scale"] == 1.0
    assert ranges["airlight"][1] <= 1.0  # the renderer's limit


def test_fit_preset_writes_a_haze_preset_that_synth_renders(tmp_path):
    real, clean_dir = tmp_path / "real", tmp_path / "clean"
    rng = np.random.default_rng(1)
    for k, (beta, airlight) in enumerate([(1.2, 0.8), (2.0, 0.9)]):
        clean = photo(160, 224) if k == 0 else photo(160, 224)[:, ::-1].copy()
        params = degrade.HazeParams(beta=beta, airlight=airlight, near=0.2)
        write_image(real / "input" / f"{k}.png", degrade.add_haze(clean, rng, params=params, depth_scale=1.0))
        write_image(real / "target" / f"{k}.png", clean)
        write_image(clean_dir / f"photo-{k}.png", clean)
    preset = tmp_path / "haze.yaml"
    done = run_cli("fit-preset", str(real), "--task", "dehaze", "-o", str(preset))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(preset.read_text())
    assert document["task"] == "dehaze" and document["pairs"] == 2
    low, high = document["ranges"]["airlight"]
    assert low < 0.8 and 0.9 < high <= 1.0 and "depth_scale 1" in done.stdout
    assert preset.with_suffix(".png").is_file()

    ranges = preset_ranges("dehaze", str(preset))
    assert ranges["depth_scale"] == 1.0 and ranges["beta"][0] < 1.2 < 2.0 < ranges["beta"][1]
    out = tmp_path / "synth"
    made = run_cli("synth", "--task", "dehaze", "--clean", str(clean_dir), "-o", str(out), "--preset", str(preset))
    assert made.returncode == 0, made.stderr
    assert len(list((out / "input").iterdir())) == 2


def test_objects_preset_renders_and_bad_weights_fail_in_one_line(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "benchmarks" / "presets" / "sots-fitted-objects.yaml"
    ranges = preset_ranges("dehaze", str(shipped))
    assert ranges["objects"] == (0.25, 0.75) and ranges["beta"] == preset_ranges("dehaze", "sots-fitted")["beta"]
    clean = photo(96, 128)
    hazy = render("dehaze", clean, np.random.default_rng(0), str(shipped))[0]
    assert hazy.shape == clean.shape and hazy.mean() > clean.mean() + 0.05  # white airlight
    preset = tmp_path / "objects.yaml"
    for bad in ([0.5, 1.5], [0.8, 0.2], [-0.1, 0.5], [0.5], "all"):
        preset.write_text(yaml.safe_dump({"task": "dehaze", "ranges": {"objects": bad}}))
        with pytest.raises(MemrestoreError, match=r"objects.yaml: objects: .* is not \[low, high\] with 0 <= low <= high <= 1"):
            preset_ranges("dehaze", str(preset))
