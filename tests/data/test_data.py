"""Synthetic rain and paired datasets."""

from __future__ import annotations

import numpy as np
import pytest

from memrestore.data.degrade import RainParams, add_rain, streak_kernel
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.errors import MemrestoreError
from memrestore.io import write_image

from tests.helpers import smooth_image


@pytest.mark.parametrize("length, angle", [(5, 0.0), (20, 30.0), (33, -45.0)])
def test_streak_kernel_is_a_normalised_line(length, angle):
    kernel = streak_kernel(length, angle)
    assert kernel.min() >= 0 and kernel.sum() == pytest.approx(1.0, abs=1e-6)
    assert kernel.shape[0] % 2 == 1
    ys, xs = np.nonzero(kernel > kernel.max() * 0.5)
    extent = np.hypot(ys.max() - ys.min(), xs.max() - xs.min())
    assert abs(extent - length) <= 3


def test_rain_is_reproducible_and_only_brightens(rng):
    clean = smooth_image(rng, 64, 80)
    a = add_rain(clean, np.random.default_rng(7), params=[RainParams(veil=0.0)])
    b = add_rain(clean, np.random.default_rng(7), params=[RainParams(veil=0.0)])
    np.testing.assert_array_equal(a, b)
    assert (a >= clean - 1e-6).all() and a.max() <= 1.0  # screen blending never darkens nor clips
    assert (a - clean).mean() > 0.005
    c = add_rain(clean, np.random.default_rng(8), params=[RainParams(veil=0.0)])
    assert not np.array_equal(a, c)


def test_zero_density_is_identity(rng):
    clean = smooth_image(rng)
    out = add_rain(clean, rng, params=[RainParams(density=0.0, veil=0.0)])
    np.testing.assert_allclose(out, clean, atol=1e-6)


def test_paired_dataset_patches_are_aligned_and_reproducible(paired_root):
    ds = PairedImageDataset.from_folder(paired_root, patch_size=16, augment=True, seed=3)
    item = ds[4]
    assert item["input"].shape == item["target"].shape == (3, 16, 16)
    again = PairedImageDataset.from_folder(paired_root, patch_size=16, augment=True, seed=3)[4]
    assert (again["input"] == item["input"]).all()
    # the same crop is taken from input and target: noisy input stays close to its clean target
    assert (item["input"] - item["target"]).abs().mean() < 0.1
    whole = PairedImageDataset.from_folder(paired_root)
    assert len(whole) == 3 and whole[0]["input"].shape == (3, 48, 64)


def test_paired_dataset_errors(tmp_path, paired_root):
    with pytest.raises(MemrestoreError, match="folder not found"):
        PairedImageDataset.from_folder(tmp_path / "nowhere")
    write_image(paired_root / "input" / "extra.png", np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(MemrestoreError, match=r"extra.png: no matching clean file"):
        PairedImageDataset.from_folder(paired_root)
    (paired_root / "input" / "extra.png").unlink()
    write_image(paired_root / "target" / "img0.png", np.zeros((40, 64, 3), np.uint8))
    ds = PairedImageDataset.from_folder(paired_root)
    with pytest.raises(MemrestoreError, match=r"img0.png is 64x48 but .*img0.png is 64x40"):
        ds[0]
    empty = tmp_path / "empty"
    (empty / "input").mkdir(parents=True)
    (empty / "target").mkdir()
    with pytest.raises(MemrestoreError, match="no images found"):
        PairedImageDataset.from_folder(empty)


def test_synth_derain_is_reproducible_with_preview(tmp_path, rng):
    from memrestore.cli.main import main
    from memrestore.io import read_image

    clean = tmp_path / "clean"
    for i in range(2):
        write_image(clean / "sub" / f"photo{i}.png", smooth_image(rng, 40, 52))
    for out in ("a", "b"):
        assert main(["synth", "--task", "derain", "--clean", str(clean), "-o", str(tmp_path / out), "--renderings", "2", "--preview"]) == 0
    names = sorted(p.name for p in (tmp_path / "a" / "input").iterdir())
    assert names == ["sub_photo0_0.png", "sub_photo0_1.png", "sub_photo1_0.png", "sub_photo1_1.png"]
    assert sorted(p.name for p in (tmp_path / "a" / "target").iterdir()) == names
    for name in names:
        assert np.array_equal(read_image(tmp_path / "a" / "input" / name).pixels, read_image(tmp_path / "b" / "input" / name).pixels)
    assert (tmp_path / "a" / "preview.png").is_file()
    ds = PairedImageDataset.from_folder(tmp_path / "a")  # the output is a valid paired dataset
    assert len(ds) == 4


def test_synth_errors(tmp_path):
    from memrestore.data.synth import synthesize_pairs

    with pytest.raises(MemrestoreError, match="folder not found"):
        synthesize_pairs(tmp_path / "none", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MemrestoreError, match="no images found"):
        synthesize_pairs(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(MemrestoreError, match="unknown synthetic task 'desnow'"):
        synthesize_pairs(tmp_path / "empty", tmp_path / "out", task="desnow")
    with pytest.raises(MemrestoreError, match="unknown dehaze preset 'foggy'"):
        synthesize_pairs(tmp_path / "empty", tmp_path / "out", task="dehaze", preset="foggy")
