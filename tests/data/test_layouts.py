"""Dataset layout readers, each on a tiny generated tree in the real distribution's layout."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from memrestore.data import build_dataset, read_layout
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.errors import MemrestoreError
from memrestore.io import write_image


def touch(root: Path, *names: str, size: tuple[int, int] = (12, 16)) -> None:
    for i, name in enumerate(names):
        write_image(root / name, np.full((*size, 3), (i * 17) % 255, np.uint8))


def by_name(pairs):
    return {p.name: (p.input.relative_to(p.input.parents[1]).as_posix(), p.target.relative_to(p.target.parents[1]).as_posix()) for p in pairs}


def test_paired_with_masks(tmp_path):
    touch(tmp_path, "input/a.png", "input/b.png", "target/a.png", "target/b.png", "mask/a.png", "mask/b.png")
    pairs = read_layout("paired", str(tmp_path), mask_dir="mask")
    assert [p.name for p in pairs] == ["a", "b"] and all(p.mask and p.mask.stem == p.name for p in pairs)


def test_folders_with_name_mapping(tmp_path):
    touch(tmp_path, "x/rain-001.png", "x/rain-002.png", "y/norain-001.png", "y/norain-002.png")
    pairs = read_layout("folders", str(tmp_path), input_dir="x", target_dir="y", input_pattern="rain-{}",
                        target_pattern="norain-{}")
    assert by_name(pairs) == {"rain-001": ("x/rain-001.png", "y/norain-001.png"), "rain-002": ("x/rain-002.png", "y/norain-002.png")}
    touch(tmp_path, "y/notes.png")
    with pytest.raises(MemrestoreError, match="notes.png: name does not follow the clean files' naming pattern"):
        read_layout("folders", str(tmp_path), input_dir="x", target_dir="y", input_pattern="rain-{}", target_pattern="norain-{}")
    with pytest.raises(MemrestoreError, match="exactly once"):
        read_layout("folders", str(tmp_path), input_pattern="rain", target_pattern="{}")


def test_istd_train_and_test_splits(tmp_path):
    for split in ("train", "test"):
        touch(tmp_path, *(f"{split}_{c}/{n}.png" for c in "ABC" for n in ("90-1", "90-2")))
    pairs = read_layout("istd", str(tmp_path), split="train")
    assert len(pairs) == 2
    assert all(p.input.parent.name == "train_A" and p.target.parent.name == "train_C" and p.mask.parent.name == "train_B" for p in pairs)


def test_srd_both_packagings(tmp_path):
    touch(tmp_path / "a", "test/shadow/IMG_1.jpg", "test/shadow/IMG_2.jpg", "test/shadow_free/IMG_1_free.jpg",
          "test/shadow_free/IMG_2_no_shadow.jpg")
    assert by_name(read_layout("srd", str(tmp_path / "a")))["IMG_2"][1] == "shadow_free/IMG_2_no_shadow.jpg"
    touch(tmp_path / "b", *(f"train/train_{c}/1.png" for c in "ABC"))
    assert len(read_layout("srd", str(tmp_path / "b"), split="train", masks=True)) == 1


def test_rain_family_names(tmp_path):
    touch(tmp_path / "r100", "rain/X2/norain-1x2.png", "rain/X2/norain-2x2.png", "norain/norain-1.png", "norain/norain-2.png")
    assert by_name(read_layout("rain", str(tmp_path / "r100")))["norain-1x2"] == ("X2/norain-1x2.png", "norain/norain-1.png")
    touch(tmp_path / "r1400", *(f"rain/901_{k}.jpg" for k in range(1, 4)), "norain/901.jpg", "rain/902_1.jpg", "norain/902.jpg")
    pairs = read_layout("rain", str(tmp_path / "r1400"))
    assert len(pairs) == 4 and {p.target.name for p in pairs} == {"901.jpg", "902.jpg"}


def test_spa_raindrop_reside(tmp_path):
    touch(tmp_path / "spa", "rain/10.png", "gt/10gt.png")
    assert by_name(read_layout("spa", str(tmp_path / "spa")))["10"] == ("rain/10.png", "gt/10gt.png")
    touch(tmp_path / "drop", "data/0_rain.png", "data/1_rain.png", "gt/0_clean.png", "gt/1_clean.png")
    assert by_name(read_layout("raindrop", str(tmp_path / "drop")))["1_rain"] == ("data/1_rain.png", "gt/1_clean.png")
    touch(tmp_path / "sots", "hazy/1400_1.png", "hazy/1400_10.png", "GT/1400.png")
    assert {p.target.name for p in read_layout("reside", str(tmp_path / "sots"))} == {"1400.png"}
    touch(tmp_path / "its", "hazy/1_1_0.9.png", "clear/1.png")
    assert len(read_layout("reside", str(tmp_path / "its"))) == 1
    touch(tmp_path / "same", "hazy/0001_3.png", "GT/0001_3.png")
    assert len(read_layout("reside", str(tmp_path / "same"))) == 1


def test_gopro_sequences(tmp_path):
    touch(tmp_path, "test/GOPR0384_11_00/blur/000001.png", "test/GOPR0384_11_00/sharp/000001.png",
          "test/GOPR0385_11_01/blur/003011.png", "test/GOPR0385_11_01/sharp/003011.png")
    pairs = read_layout("gopro", str(tmp_path))
    assert [p.name for p in pairs] == ["GOPR0384_11_00_000001", "GOPR0385_11_01_003011"]
    touch(tmp_path, "test/GOPR0385_11_01/blur_gamma/003011.png")
    with pytest.raises(MemrestoreError, match="GOPR0384_11_00/blur_gamma: folder not found"):
        read_layout("gopro", str(tmp_path), blur_dir="blur_gamma")


def test_gtrain_scores_every_frame_against_its_scene_clean_frame(tmp_path):
    from memrestore.data.layouts import guess_layout

    scenes, ours = tmp_path / "gtrain", tmp_path / "ours"
    touch(scenes, "Deadwood_0-0/rain-00.png", "Deadwood_0-0/rain-01.png", "Deadwood_0-0/clean.png",
          "Stick_0-1/rain-00.png", "Stick_0-1/clean.png")
    touch(ours, "input/a.png", "target/a.png")
    pairs = read_layout("gtrain", str(scenes))
    assert by_name(pairs) == {"Deadwood_0-0_rain-00": ("Deadwood_0-0/rain-00.png", "Deadwood_0-0/clean.png"),
                              "Deadwood_0-0_rain-01": ("Deadwood_0-0/rain-01.png", "Deadwood_0-0/clean.png"),
                              "Stick_0-1_rain-00": ("Stick_0-1/rain-00.png", "Stick_0-1/clean.png")}
    assert guess_layout(scenes) == "gtrain" and guess_layout(ours) == "paired"
    from memrestore.data.paired_dataset import PairedImageDataset

    auto = PairedImageDataset.from_folder(scenes, layout="auto")  # the guess, as demo and benchmarks use it
    assert [p.name for p in auto.pairs] == [p.name for p in pairs]
    assert [p.name for p in PairedImageDataset.from_folder(ours, layout="auto").pairs] == ["a"]
    (scenes / "Stick_0-1" / "clean.png").unlink()
    with pytest.raises(MemrestoreError, match="Stick_0-1: no 'clean' frame to score"):
        read_layout("gtrain", str(scenes))


def test_errors_name_the_file_and_strict_false_skips(tmp_path, caplog):
    touch(tmp_path, "data/0_rain.png", "data/7_rain.png", "gt/0_clean.png")
    with pytest.raises(MemrestoreError, match=r"7_rain.png: no matching clean file"):
        read_layout("raindrop", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        pairs = read_layout("raindrop", str(tmp_path), strict=False)
    assert len(pairs) == 1 and "7_rain.png" in caplog.text and "skipped 1" in caplog.text
    (tmp_path / "empty" / "input").mkdir(parents=True)
    (tmp_path / "empty" / "target").mkdir()
    with pytest.raises(MemrestoreError, match="input: no images found"):
        read_layout("paired", str(tmp_path / "empty"))
    with pytest.raises(MemrestoreError, match="unknown dataset layout 'sidd'"):
        read_layout("sidd", str(tmp_path))


def test_orphan_clean_file_and_size_mismatch(tmp_path):
    touch(tmp_path, "input/a.png", "target/a.png", "target/b.png")
    with pytest.raises(MemrestoreError, match=r"b.png: no degraded file matches it"):
        read_layout("paired", str(tmp_path))
    (tmp_path / "target" / "b.png").unlink()
    touch(tmp_path, "target/a.png", size=(10, 16))
    with pytest.raises(MemrestoreError, match=r"a.png is 16x12 but .*target/a.png is 16x10"):
        PairedImageDataset.from_folder(tmp_path)[0]


def test_masks_are_cropped_with_their_pair(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.random((32, 32, 3)).astype(np.float32)
    mask = (image[..., 0] > 0.5).astype(np.float32)
    write_image(tmp_path / "input" / "a.png", image)
    write_image(tmp_path / "target" / "a.png", image)
    write_image(tmp_path / "mask" / "a.png", mask)
    ds = PairedImageDataset(read_layout("paired", str(tmp_path), mask_dir="mask"), patch_size=16, augment=True, seed=1)
    for i in range(4):
        item = ds[i]
        assert item["mask"].shape == (1, 16, 16)
        assert np.array_equal(item["mask"][0].numpy(), (item["input"][0].numpy() > 0.5).astype(np.float32))


def test_mask_focus_centres_crops_on_the_mask(tmp_path):
    image = np.zeros((64, 64, 3), np.float32)
    mask = np.zeros((64, 64), np.float32)
    mask[50:54, 4:8] = 1  # a small shadow in one corner
    write_image(tmp_path / "input" / "a.png", image)
    write_image(tmp_path / "target" / "a.png", image)
    write_image(tmp_path / "mask" / "a.png", mask)
    pairs = read_layout("paired", str(tmp_path), mask_dir="mask")
    hits = lambda focus: sum(float(PairedImageDataset(pairs, 16, seed=0, mask_focus=focus)[i]["mask"].max()) for i in range(40))
    assert hits(1.0) == 40 and hits(0.0) < 10


def test_timelapse_reader_and_batches_share_a_background(tmp_path):
    from memrestore.recipes import load_config
    from memrestore.data.timelapse_dataset import read_timelapse

    rng = np.random.default_rng(0)
    for scene in ("s1", "s2"):
        background = rng.random((24, 24, 3)).astype(np.float32) * 0.5
        for t in range(5):
            rain = (rng.random((24, 24, 1)) < 0.05) * 0.5
            write_image(tmp_path / scene / f"frame_{t:03d}.png", np.clip(background + rain, 0, 1))
        write_image(tmp_path / scene / "clean.png", background)
    (tmp_path / "lonely").mkdir()
    touch(tmp_path, "lonely/frame_000.png")
    with pytest.raises(MemrestoreError, match="lonely: 1 frame"):
        read_timelapse(str(tmp_path))
    scenes = read_timelapse(str(tmp_path), strict=False)
    assert [s.name for s in scenes] == ["s1", "s2"] and all(len(s.frames) == 5 and s.clean for s in scenes)
    config = load_config(None, [f"data.train.root={tmp_path}", "data.train.type=timelapse", "data.train.strict=false",
                                "data.train.frames=3", "data.train.patch_size=16", "data.train.background=median"])
    ds = build_dataset(config.data.train, seed=0, training=True)
    item = ds[1]
    assert item["input"].shape == (3, 3, 16, 16) and item["target"].shape == (3, 3, 16, 16)
    assert all(np.array_equal(item["target"][0], item["target"][k]) for k in range(3))  # one background per item
    assert not np.array_equal(item["input"][0], item["input"][1])  # different rain per frame
    from memrestore.data.timelapse_dataset import TimeLapseDataset
    from memrestore.io import read_image, to_float_rgb

    clean = to_float_rgb(read_image(scenes[0].clean))
    exact = TimeLapseDataset(scenes, 3, 0, False, background="clean")[0]["target"][0].numpy().transpose(1, 2, 0)
    assert np.array_equal(exact, clean)
    median = TimeLapseDataset(scenes, 3, 0, False, background="median")[0]["target"][0].numpy().transpose(1, 2, 0)
    assert np.abs(median - clean).mean() < 0.01  # sparse rain: the temporal median recovers the background
    with pytest.raises(MemrestoreError, match="no clean frame"):
        TimeLapseDataset([scenes[0].__class__("x", scenes[0].frames)], background="clean")


def test_images_smaller_than_the_patch_are_named(tmp_path):
    touch(tmp_path, "input/small.png", "target/small.png")
    dataset = PairedImageDataset(read_layout("paired", str(tmp_path)), patch_size=32)
    with pytest.raises(MemrestoreError, match=r"small.png: smaller than patch_size 32"):
        dataset[0]
