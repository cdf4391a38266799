"""Fitting the motion-blur renderer to blurred/sharp pairs: kernels are recovered from rendered blur in
the domain it was rendered in, unblurred pairs are left out, and a fitted preset round-trips through
``fit-preset`` into ``synth``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from skimage import data

from memrestore.data import degrade
from memrestore.data.degrade.blur import BlurParams
from memrestore.data.degrade.blur_fit import (FITTER, BlurEstimate, estimate_blur, estimate_kernel, fit_ranges,
                                              kernel_extent, renderer_length)
from memrestore.data.presets import preset_ranges
from memrestore.data.synth import render
from memrestore.errors import MemrestoreError
from memrestore.io import write_image

from tests.helpers import run_cli


def photo() -> np.ndarray:
    return (data.astronaut() / 255.0).astype(np.float32)


def test_kernel_of_a_straight_path_is_recovered():
    sharp = photo()[:256, :256].mean(axis=2)
    kernel = np.zeros((63, 63), np.float32)
    kernel[31, 22:41] = 1.0 / 19  # a horizontal path of 19 px
    blurred = degrade.blur.apply_kernel(np.repeat(sharp[..., None], 3, axis=2), kernel, linear=False)[..., 0]
    found = estimate_kernel(blurred, sharp)
    assert kernel_extent(found) == pytest.approx(kernel_extent(kernel), rel=0.05)
    assert kernel_extent(kernel) == pytest.approx(19.0, rel=0.05)  # sqrt(12 variance) of a straight path is its length
    rows = found.sum(axis=1)
    assert rows[29:34].sum() > 0.9  # the mass lies on the path's row


@pytest.mark.parametrize("length, linear", [(8.0, False), (20.0, False), (35.0, True)])
def test_estimate_reads_the_length_and_domain_blur_was_rendered_with(length, linear):
    clean = photo()
    params = BlurParams(length=length, size=int(length * 1.3) | 1, anxiety=0.005, linear=linear)
    blurred, kernel = degrade.add_motion_blur(clean, np.random.default_rng(1), params=params)
    found = estimate_blur(np.round(blurred * 255) / 255, clean)
    truth = renderer_length(kernel_extent(kernel))  # this trajectory's length in the renderer's mean units
    assert found.length == pytest.approx(truth, rel=0.05) and found.linear == linear
    assert found.noise < 0.005 and FITTER.left_out(found) is None
    assert renderer_length(kernel_extent(kernel)) == pytest.approx(length, rel=0.35)  # one random path vs the mean


def test_unblurred_pairs_are_left_out():
    clean = photo()
    assert "no motion blur" in FITTER.left_out(estimate_blur(clean, clean))
    flat = np.full((300, 300, 3), 0.5, np.float32)
    assert "no textured tile" in FITTER.left_out(estimate_blur(flat, flat))
    small = clean[:100, :100]  # under two kernels across
    assert "no textured tile" in FITTER.left_out(estimate_blur(small, small))


def test_fitted_ranges_cover_every_tile_and_take_the_majority_domain():
    estimates = [BlurEstimate(5.0, 10.0, 20.0, 0.004, 0.005, 8), BlurEstimate(8.0, 12.0, 30.0, 0.002, 0.003, 8),
                 BlurEstimate(4.0, 6.0, 9.0, 0.03, 0.02, 8)]
    ranges = fit_ranges(estimates, widen=0.25)
    assert ranges["length"][0] < 4.0 and ranges["length"][1] > 30.0 and ranges["linear"] is False
    assert ranges["noise"] == [0.0, 0.004]  # the median residual, an upper bound of the noise


def test_fit_preset_writes_a_blur_preset_that_synth_renders(tmp_path):
    clean = photo()[:300, :400]
    blurred, _ = degrade.add_motion_blur(clean, np.random.default_rng(0), params=BlurParams(length=15.0, size=21, linear=False))
    write_image(tmp_path / "real" / "input" / "a.png", blurred)
    write_image(tmp_path / "real" / "target" / "a.png", clean)
    write_image(tmp_path / "clean" / "a.png", clean)
    preset = tmp_path / "blur.yaml"
    done = run_cli("fit-preset", str(tmp_path / "real"), "--task", "deblur", "-o", str(preset))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(preset.read_text())
    assert document["task"] == "deblur" and document["ranges"]["linear"] is False
    estimate = document["estimates"]["input/a.png"]
    assert document["ranges"]["length"][0] < estimate["length"] < document["ranges"]["length"][1]
    ranges = preset_ranges("deblur", str(preset))
    assert ranges["linear"] is False and len(ranges["length"]) == 2
    made = run_cli("synth", "--task", "deblur", "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "synth"),
                   "--preset", str(preset))
    assert made.returncode == 0, made.stderr


def test_varying_blur_differs_from_tile_to_tile_as_real_blur_does():
    """One kernel per photo reads the same length on every tile; an n x n grid of kernels spreads the
    tiles' lengths, as GoPro's real blur does (its left half: 5.5 to 13.6 px)."""
    clean = photo()
    ranges = {"length": (4.0, 24.0), "linear": False}
    one = degrade.add_motion_blur(clean, np.random.default_rng(0), ranges=ranges)[0]
    grid = degrade.add_varying_motion_blur(clean, np.random.default_rng(0), 3, ranges)[0]
    single, varying = (estimate_blur(np.round(image * 255) / 255, clean) for image in (one, grid))
    assert single.length_high / single.length_low < 1.05 and varying.length_high / varying.length_low > 1.3


def test_grid_preset_renders_varying_blur_and_bad_grids_fail_in_one_line(tmp_path):
    preset = tmp_path / "varying.yaml"
    preset.write_text(yaml.safe_dump({"task": "deblur", "ranges": {"grid": [2, 3], "length": [4.0, 12.0]}}))
    assert preset_ranges("deblur", str(preset))["grid"] == (2, 3)
    clean = photo()[:128, :128]
    made = render("deblur", clean, np.random.default_rng(0), str(preset))[0]
    assert made.shape == clean.shape and not np.allclose(made, clean, atol=0.01)
    for bad in ([0, 2], [3, 2], [1.5, 2], [2]):
        preset.write_text(yaml.safe_dump({"task": "deblur", "ranges": {"grid": bad}}))
        with pytest.raises(MemrestoreError, match=r"varying.yaml: grid: .* is not \[low, high\] of whole numbers"):
            preset_ranges("deblur", str(preset))
