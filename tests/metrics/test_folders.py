"""`memrestore eval` on test sets as they are distributed (dataset layouts), the ISTD shadow errors,
and the scikit-image SSIM convention of the all-in-one papers."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from memrestore.io import write_image
from memrestore.metrics import psnr, psnr_ssim, ssim
from memrestore.metrics.folders import evaluate_folders, mean_row
from memrestore.metrics.shadow import shadow_lab_errors

from tests.helpers import run_cli, smooth_image


def noisy(rng, clean, sigma=0.06):
    return np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1)


def test_rgb_skimage7_is_scikit_image_default_ssim(rng):
    clean = (smooth_image(rng) * 255 + 0.5).astype(np.uint8)
    degraded = (noisy(rng, clean / 255.0, 0.1) * 255 + 0.5).astype(np.uint8)
    reference = structural_similarity(degraded, clean, channel_axis=2, data_range=255)
    assert ssim(degraded, clean, "rgb-skimage7") == pytest.approx(reference, abs=1e-9)
    assert abs(ssim(degraded, clean, "rgb") - reference) > 1e-3  # the Gaussian window reads differently
    assert psnr(degraded, clean, "rgb-skimage7") == psnr(degraded, clean, "rgb")


def write_pairs(rng, inputs, targets, masks=None, count=2):
    """Degraded/clean files at the given name lists (and shadow masks); returns the clean arrays."""
    cleans = []
    for i in range(count):
        clean = smooth_image(rng)
        write_image(targets[i], clean)
        write_image(inputs[i], noisy(rng, clean))
        if masks:
            mask = np.zeros(clean.shape[:2], np.uint8)
            mask[10:30, 12:40] = 255
            write_image(masks[i], mask)
        cleans.append(clean)
    return cleans


def restore_like(rng, inputs, out_dir, cleans):
    """'Restored' files named like the degraded ones: the clean image plus a little noise."""
    restored = []
    for path, clean in zip(inputs, cleans):
        image = noisy(rng, clean, 0.02)
        write_image(out_dir / path.name, image)
        restored.append(image)
    return restored


@pytest.mark.parametrize("layout, inputs, targets", [
    ("rain", ["rain/rain-1.png", "rain/rain-2.png"], ["norain/norain-1.png", "norain/norain-2.png"]),
    ("raindrop", ["data/0_rain.png", "data/1_rain.png"], ["gt/0_clean.png", "gt/1_clean.png"]),
    ("reside", ["hazy/0001_0.8_0.2.png", "hazy/0002_0.9_0.1.png"], ["GT/0001.png", "GT/0002.png"]),
])
def test_eval_reads_test_sets_as_distributed(tmp_path, rng, layout, inputs, targets):
    root = tmp_path / "set"
    inputs, targets = [root / p for p in inputs], [root / p for p in targets]
    cleans = write_pairs(rng, inputs, targets)
    restore_like(rng, inputs, tmp_path / "restored", cleans)
    rows = evaluate_folders(tmp_path / "restored", root, "y-matlab", layout=layout)
    assert len(rows) == 2
    for row, path, target in zip(rows, inputs, targets):
        from memrestore.io import read_image

        expected = psnr_ssim(read_image(tmp_path / "restored" / path.name).pixels, read_image(target).pixels, "y-matlab")
        assert row["psnr"] == pytest.approx(expected["psnr"]) and row["ssim"] == pytest.approx(expected["ssim"])
    done = run_cli("eval", "--pred", str(tmp_path / "restored"), "--target", str(root), "--layout", layout,
                   "--convention", "y-matlab")
    assert done.returncode == 0, done.stderr
    assert f"{mean_row(rows)['psnr']:.4f}" in done.stdout


def test_eval_istd_adds_the_shadow_errors(tmp_path, rng):
    root = tmp_path / "ISTD"
    names = ["1-1.png", "2-3.png"]
    inputs, targets, masks = ([root / f"test_{x}" / n for n in names] for x in "ACB")
    cleans = write_pairs(rng, inputs, targets, masks)
    restored = restore_like(rng, inputs, tmp_path / "restored", cleans)
    rows = evaluate_folders(tmp_path / "restored", root, "rgb", layout="istd")
    from memrestore.io import read_image

    for row, image, target, mask in zip(rows, restored, targets, masks):
        expected = shadow_lab_errors(read_image(tmp_path / "restored" / target.name).pixels, read_image(target).pixels,
                                     read_image(mask).pixels)
        assert row["mae_shadow"] == pytest.approx(expected.mae("shadow")) and row["mae_all"] > 0
    done = run_cli("eval", "--pred", str(tmp_path / "restored"), "--target", str(root), "--layout", "istd",
                   "--csv", str(tmp_path / "scores.csv"))
    assert done.returncode == 0, done.stderr
    assert "LAB MAE all" in done.stdout and "per-pixel totals over the set: shadow" in done.stdout
    header = next(csv.reader(open(tmp_path / "scores.csv")))
    assert header == ["name", "psnr", "ssim", "mae_all", "mae_non_shadow", "mae_shadow", "convention"]


def test_eval_names_what_is_missing(tmp_path, rng):
    root = tmp_path / "set"
    inputs = [root / "rain" / "rain-1.png", root / "rain" / "rain-2.png"]
    cleans = write_pairs(rng, inputs, [root / "norain" / "norain-1.png", root / "norain" / "norain-2.png"])
    restore_like(rng, inputs[:1], tmp_path / "restored", cleans[:1])
    done = run_cli("eval", "--pred", str(tmp_path / "restored"), "--target", str(root), "--layout", "rain")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no restored image for 1 of the 2 images of the rain dataset" in done.stderr and "rain-2.png" in done.stderr
    split = run_cli("eval", "--pred", str(tmp_path / "restored"), "--target", str(root), "--layout", "rain", "--split", "x")
    assert split.returncode == 2 and "--split applies to the istd, srd and gopro layouts" in split.stderr
