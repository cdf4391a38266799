"""Fitting the rain renderer to rain pairs: known parameters are recovered from rendered rain, a fitted
preset file round-trips into ``synth``, and bad presets fail in one line."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from skimage import data

from memrestore.data import degrade
from memrestore.data.degrade.rain_fit import RainEstimate, direction, estimate_rain, fit_ranges
from memrestore.data.presets import preset_ranges
from memrestore.errors import MemrestoreError
from memrestore.io import write_image

from tests.helpers import run_cli


def photo(height: int = 240, width: int = 320) -> np.ndarray:
    return (data.astronaut()[:height, :width] / 255.0).astype(np.float32)


@pytest.mark.parametrize("angle", [-30.0, 0.0, 20.0])
def test_direction_reads_the_renderers_angle(angle):
    layer = degrade.rain_layer(256, 256, degrade.RainParams(density=0.003, length=30, angle=angle, width=0.6),
                               np.random.default_rng(0))
    found, coherence = direction(layer)
    assert found == pytest.approx(angle, abs=3.0) and coherence > 0.6


def test_the_additive_composite_adds_grey_rain_and_clips_at_white():
    clean = photo()
    rng = np.random.default_rng(0)
    added = degrade.add_rain(clean, rng, ranges={"composite": "add", "veil": (0.0, 0.0), "intensity": (0.9, 0.9)})
    rain = added - clean
    unclipped = (added < 1.0).all(axis=2)
    assert np.allclose(rain[unclipped], rain[unclipped][:, :1], atol=1e-6) and rain.min() >= -1e-6  # grey, never darker
    assert (added[~unclipped] == 1.0).any() and not unclipped.all()  # bright streaks on bright ground reach white
    with pytest.raises(ValueError, match="unknown rain composite 'multiply'"):
        degrade.add_rain(clean, rng, ranges={"composite": "multiply"})


@pytest.mark.parametrize("composite", ["screen", "add"])
def test_estimate_recovers_the_parameters_rain_was_rendered_with(composite):
    truth = degrade.RainParams(density=0.004, length=24, angle=-12.0, width=0.8, intensity=0.55,
                               veil=0.04 if composite == "screen" else 0.0)
    clean = photo()
    rainy = degrade.add_rain(clean, np.random.default_rng(3), params=[truth], ranges={"composite": composite})
    found = estimate_rain(np.round(rainy * 255) / 255, clean)  # as stored in an 8-bit file
    assert found.additive == (composite == "add")
    assert found.angle == pytest.approx(truth.angle, abs=3.0)
    assert found.length == pytest.approx(truth.length, rel=0.2)
    assert found.width == pytest.approx(truth.width, rel=0.25)
    assert found.density == pytest.approx(truth.density, rel=0.35)
    assert found.intensity == pytest.approx(truth.intensity, rel=0.15)
    assert found.veil == pytest.approx(truth.veil, abs=0.015)
    assert found.chroma < 0.05  # the renderer's streaks are grey
    none = estimate_rain(clean, clean)
    assert none.intensity < 0.02 and none.veil < 0.005


def test_fitted_ranges_cover_the_estimates_and_widen_them():
    estimates = [RainEstimate(density=d, length=l, angle=a, width=0.5, intensity=i, veil=0.0, coherence=0.9, chroma=0.0)
                 for d, l, a, i in [(0.002, 12, 2.0, 0.3), (0.006, 20, 6.0, 0.5), (0.004, 16, 4.0, 0.4)]]
    ranges = fit_ranges(estimates, widen=0.25)
    for key in ("density", "length", "angle", "intensity"):
        values = [getattr(e, key) for e in estimates]
        low, high = ranges[key]
        assert low < min(values) and high > max(values)  # strictly wider than what was seen
    assert ranges["angle"][0] <= 2.0 - 5.0 and ranges["width"] == pytest.approx([0.35, 0.65])
    assert ranges["veil"][0] == 0.0 and ranges["layers"] == [1, 1] and ranges["composite"] == "screen"
    additive = [RainEstimate(**{**e.as_dict(), "additive": 1.0}) for e in estimates]
    assert fit_ranges(additive[:2] + estimates[2:])["composite"] == "add"  # the composite most pairs show
    params = degrade.sample_rain_params(np.random.default_rng(0), **degrade.streak_ranges(ranges))
    assert ranges["length"][0] <= params.length <= ranges["length"][1]


def test_fit_preset_writes_a_preset_that_synth_renders(tmp_path):
    real, clean_dir = tmp_path / "real", tmp_path / "clean"
    rng = np.random.default_rng(1)
    for k, angle in enumerate((-8.0, 8.0)):
        clean = photo(160, 224) if k == 0 else photo(160, 224)[:, ::-1].copy()
        truth = degrade.RainParams(density=0.005, length=18, angle=angle, width=0.6, intensity=0.5)
        write_image(real / "input" / f"train-{k}.png", degrade.add_rain(clean, rng, params=[truth]))
        write_image(real / "target" / f"train-{k}.png", clean)
        write_image(clean_dir / f"photo-{k}.png", clean)
    write_image(real / "input" / "test-0.png", photo(160, 224))  # excluded by --match
    write_image(real / "target" / "test-0.png", photo(160, 224))
    preset = tmp_path / "fitted" / "mine.yaml"
    done = run_cli("fit-preset", str(real), "--match", "train-*", "-o", str(preset))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(preset.read_text())
    assert document["pairs"] == 2 and set(document["estimates"]) == {"input/train-0.png", "input/train-1.png"}
    assert document["ranges"]["angle"][0] < -8.0 < 8.0 < document["ranges"]["angle"][1]
    assert preset.with_suffix(".png").is_file() and "fitted ranges" in done.stdout

    ranges = preset_ranges("derain", str(preset))
    assert ranges["layers"] == (1, 1) and preset_ranges("timelapse", str(preset)) == ranges
    out = tmp_path / "synth"
    made = run_cli("synth", "--task", "derain", "--clean", str(clean_dir), "-o", str(out), "--preset", str(preset))
    assert made.returncode == 0, made.stderr
    assert len(list((out / "input").iterdir())) == 2


def test_bad_presets_fail_in_one_line(tmp_path):
    wrong_task = tmp_path / "haze.yaml"
    wrong_task.write_text(yaml.safe_dump({"task": "dehaze", "ranges": {"beta": [0, 1]}}))
    with pytest.raises(MemrestoreError, match="a preset for 'dehaze', not for 'derain'"):
        preset_ranges("derain", str(wrong_task))
    unknown = tmp_path / "odd.yaml"
    unknown.write_text(yaml.safe_dump({"task": "derain", "ranges": {"wind": [0, 1]}}))
    with pytest.raises(MemrestoreError, match="unknown range"):
        preset_ranges("derain", str(unknown))
    odd_composite = tmp_path / "multiply.yaml"
    odd_composite.write_text(yaml.safe_dump({"task": "derain", "ranges": {"composite": "multiply"}}))
    with pytest.raises(MemrestoreError, match="multiply.yaml: composite: 'multiply' is not one of screen, add"):
        preset_ranges("derain", str(odd_composite))
    with pytest.raises(MemrestoreError, match="preset file not found"):
        preset_ranges("derain", str(tmp_path / "missing.yaml"))
    with pytest.raises(MemrestoreError, match="unknown derain preset 'drizzle'.*light, heavy"):
        preset_ranges("derain", "drizzle")
    rainless = tmp_path / "rainless"  # a scene change without streaks: no direction dominates
    write_image(rainless / "input" / "a.png", np.clip(photo(96, 128) * 1.1, 0, 1))
    write_image(rainless / "target" / "a.png", photo(96, 128))
    failed = run_cli("fit-preset", str(rainless), "-o", str(tmp_path / "p.yaml"))
    assert failed.returncode == 2 and "no pair shows rain streaks (no dominant streak direction" in failed.stderr
    failed = run_cli("fit-preset", str(tmp_path / "nowhere"), "-o", str(tmp_path / "p.yaml"))
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "folder not found" in failed.stderr
    failed = run_cli("fit-preset", str(tmp_path), "--task", "deshadow", "-o", str(tmp_path / "p.yaml"))
    assert failed.returncode == 2 and "invalid choice" in failed.stderr
