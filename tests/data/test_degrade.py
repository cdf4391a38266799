"""Invariants of the synthetic degradations and the synth command for every task."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from memrestore.data import degrade, read_layout
from memrestore.data.degrade.blur import BlurParams, apply_kernel
from memrestore.data.degrade.haze import HazeParams
from memrestore.data.degrade.shadow import ShadowParams
from memrestore.io import write_image

from tests.helpers import smooth_image


def test_haze_follows_the_scattering_model(rng):
    clean = smooth_image(rng)
    depth = np.tile(np.linspace(0, 3, clean.shape[1], dtype=np.float32), (clean.shape[0], 1))
    assert np.allclose(degrade.add_haze(clean, rng, HazeParams(beta=0.0, airlight=0.9), depth=depth), clean, atol=1e-6)
    hazy = degrade.add_haze(clean, rng, HazeParams(beta=1.2, airlight=0.9), depth=depth)
    t = np.exp(-1.2 * depth)[..., None]
    assert np.allclose(hazy, clean * t + 0.9 * (1 - t), atol=1e-6)
    far = np.abs(hazy[:, -1] - 0.9).mean()
    near = np.abs(hazy[:, 0] - 0.9).mean()
    assert far < near  # distant pixels converge to the airlight
    a = degrade.add_haze(clean, np.random.default_rng(5))
    assert np.array_equal(a, degrade.add_haze(clean, np.random.default_rng(5)))
    pseudo = degrade.pseudo_depth(clean, rng)
    assert pseudo.shape == clean.shape[:2] and pseudo.min() == 0 and pseudo.max() == pytest.approx(1)


def room_with_a_box() -> np.ndarray:
    """64x64: a light wall (rows 0-31) above a floor (rows 32-63), a dark box standing on the floor at
    rows 20-43, columns 20-39: flat colours, so the segmentation's regions are these three."""
    image = np.empty((64, 64, 3), np.float32)
    image[:32], image[32:] = (0.8, 0.8, 0.7), (0.5, 0.35, 0.2)
    image[20:44, 20:40] = (0.1, 0.1, 0.15)
    return image


def test_standing_regions_take_the_floor_depth_where_they_touch_it():
    floor = np.tile(1.0 - np.arange(64, dtype=np.float32)[:, None] / 63, (1, 64))  # far at the top
    for seed in range(3):
        depth = degrade.haze.standing_regions(room_with_a_box(), floor, np.random.default_rng(seed))
        # thin regions form along the smoothed outlines, so only the regions' insides are exact
        box, wall = depth[24:40, 24:36], depth[:16]
        assert np.ptp(box) == 0 and floor[44, 0] <= box[0, 0] <= floor[40, 0]  # one depth: the floor's under the box
        assert np.ptp(wall) == 0 and floor[33, 0] <= wall[0, 0] <= floor[29, 0]  # the wall stands where it meets the floor
        assert np.allclose(depth[48:], floor[48:])  # the floor reaches the bottom edge: its own depth
        assert wall[0, 0] - box[0, 0] > 8 / 63  # depth jumps at the box's outline


def test_haze_over_objects_jumps_at_their_outlines_and_absent_objects_change_nothing():
    image = room_with_a_box()
    jumps = {}
    for objects in (0.0, 1.0):
        hazy = degrade.add_haze(image, np.random.default_rng(0), HazeParams(beta=2.0, airlight=1.0, objects=objects))
        depth = -np.log((1.0 - hazy[14:27, 30, 0]) / (1.0 - image[14:27, 30, 0]))  # I - A = t (J - A), A = 1
        jumps[objects] = float(np.abs(np.diff(depth)).max())  # steepest step from the wall into the box
    assert jumps[0.0] < 0.15 < 0.4 < jumps[1.0]
    plain = degrade.haze.sample_haze_params(np.random.default_rng(3))
    fixed_rng = np.random.default_rng(3)
    fixed = degrade.haze.sample_haze_params(fixed_rng, objects=(0.5, 0.5))
    assert fixed == HazeParams(plain.beta, plain.airlight, plain.near, 0.5)
    assert fixed_rng.random() == np.random.default_rng(3).uniform(size=3)[2]  # a one-value range draws nothing
    drawn = degrade.haze.sample_haze_params(np.random.default_rng(3), objects=(0.25, 0.75))
    assert 0.25 <= drawn.objects <= 0.75


def test_blur_kernels_are_normalised_and_deterministic(rng):
    for seed in range(5):
        params = degrade.blur.sample_blur_params(np.random.default_rng(seed))
        path = degrade.shake_trajectory(np.random.default_rng(seed), params.length, anxiety=params.anxiety)
        kernel = degrade.trajectory_kernel(path, params.size)
        assert kernel.shape == (params.size, params.size) and kernel.min() >= 0
        assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
        assert np.abs(np.diff(path, axis=0)).sum() > 0
    clean = smooth_image(rng)
    delta = np.zeros((5, 5), np.float32)
    delta[2, 2] = 1
    assert np.allclose(apply_kernel(clean, delta), clean, atol=1e-5)  # sRGB <-> linear round trip
    one, k1 = degrade.add_motion_blur(clean, np.random.default_rng(3), BlurParams(length=9, size=13))
    two, k2 = degrade.add_motion_blur(clean, np.random.default_rng(3), BlurParams(length=9, size=13))
    assert np.array_equal(one, two) and np.array_equal(k1, k2)
    assert cv2.Laplacian(one, cv2.CV_32F).var() < cv2.Laplacian(clean, cv2.CV_32F).var()
    assert np.allclose(degrade.average_frames([clean, clean, clean]), clean, atol=1e-5)
    with pytest.raises(ValueError, match="odd"):
        degrade.trajectory_kernel(path, 8)


def test_gopro_preset_blurs_stored_values_and_keeps_brightness():
    """GoPro_Large's `blur` pairs (what deblurring benchmarks use) keep the mean brightness; linear-light
    blur brightens an sRGB photo, which a model trained on it learns to undo by darkening."""
    from memrestore.data.synth import render

    clean = np.random.default_rng(0).choice([0.1, 0.9], size=(64, 64, 3)).astype(np.float32)  # strong edges
    gopro = render("deblur", clean, np.random.default_rng(1))[0]  # the task's default preset
    linear = render("deblur", clean, np.random.default_rng(1), "linear-light")[0]
    assert abs(float((gopro - clean).mean())) < 0.01 < float((linear - clean).mean())
    assert cv2.Laplacian(gopro, cv2.CV_32F).var() < cv2.Laplacian(clean, cv2.CV_32F).var()


def test_shadow_darkens_only_inside_the_mask(rng):
    clean = smooth_image(rng, 64, 64) * 0.8 + 0.1
    hard = np.zeros((64, 64), np.float32)
    hard[20:40, 20:40] = 1
    params = ShadowParams(ratio=(0.3, 0.4, 0.5), penumbra=0.02)
    shadowed, mask = degrade.add_shadow(clean, rng, params, mask=hard)
    assert (mask == hard).mean() > 0.99  # the soft edge crosses 0.5 at the outline (corners round off)
    assert np.all(shadowed[mask > 0] < clean[mask > 0])
    far = cv2.dilate(hard, np.ones((15, 15), np.uint8)) == 0  # beyond the penumbra
    assert np.array_equal(shadowed[far], clean[far])
    ratio = shadowed[30, 30] / clean[30, 30]
    assert ratio[0] < ratio[1] < ratio[2]  # sky-lit shadows are bluer
    sampled = degrade.shadow.sample_shadow_params(np.random.default_rng(0))
    assert all(0 < r <= 1 for r in sampled.ratio)


def test_raindrops_change_only_covered_glass(rng):
    clean = smooth_image(rng, 96, 96)
    params = degrade.RaindropParams(count=3, radius=(0.08, 0.1), refraction=1.5, inner_blur=2.0, defocus=0.0)
    rainy, mask = degrade.add_raindrops(clean, np.random.default_rng(1), params)
    assert 0 < mask.mean() < 0.5
    assert np.abs(rainy - clean)[mask > 0].mean() > 0.01
    thickness = degrade.raindrop.drop_thickness(96, 96, params, np.random.default_rng(1))
    assert np.array_equal(rainy[thickness == 0], clean[thickness == 0])
    again, _ = degrade.add_raindrops(clean, np.random.default_rng(1), params)
    assert np.array_equal(rainy, again)


def test_timelapse_frames_share_the_scene(rng):
    clean = smooth_image(rng, 48, 48) * 0.7
    frames, gains = degrade.timelapse_sequence(clean, np.random.default_rng(2), frames=6, drift=0.04)
    assert len(frames) == 6 and all(0.96 <= g <= 1.04 for g in gains)
    assert not np.array_equal(frames[0], frames[1])  # independent rain per frame
    background = np.percentile(np.stack(frames), 25, axis=0)
    assert np.abs(background - clean).mean() < 0.05


def test_every_shipped_preset_renders(rng):
    from memrestore.data.presets import TASKS, fitted_presets, preset_names
    from memrestore.data.synth import render

    assert {"jorder", "rain12"} <= set(fitted_presets("derain")) and "sots-fitted" in fitted_presets("dehaze")
    assert "qian" in fitted_presets("raindrop")
    clean = smooth_image(rng, 40, 48)
    for task in (t for t in TASKS if t != "timelapse"):  # time-lapse frames use the rain presets
        for name in preset_names(task):
            degraded, _ = render(task, clean, np.random.default_rng(0), name)
            assert degraded.shape == clean.shape and 0.0 <= degraded.min() and degraded.max() <= 1.0, (task, name)
            assert np.abs(degraded - clean).mean() > 1e-3, (task, name)  # it degrades


@pytest.mark.parametrize("task, extra, mask", [
    ("raindrop", [], True), ("deshadow", [], True), ("deblur", [], False), ("dehaze", [], False),
    ("derain", ["--preset", "heavy"], False),
])
def test_synth_command_writes_a_readable_dataset(tmp_path, rng, task, extra, mask):
    from memrestore.cli.main import main

    for i in range(2):
        write_image(tmp_path / "clean" / f"p{i}.png", smooth_image(rng, 40, 48))
    out = tmp_path / "out"
    assert main(["synth", "--task", task, "--clean", str(tmp_path / "clean"), "-o", str(out), "--preview", *extra]) == 0
    pairs = read_layout("paired", str(out), mask_dir="mask" if mask else None)
    assert len(pairs) == 2 and (out / "preview.png").is_file()
    assert (out / "mask").is_dir() == mask
    (out / "preview.png").unlink()  # complete output is reused, and its preview drawn from the files
    assert main(["synth", "--task", task, "--clean", str(tmp_path / "clean"), "-o", str(out), "--preview", *extra]) == 0
    assert (out / "preview.png").is_file()


def test_synth_timelapse_depth_and_frame_averaging(tmp_path, rng, capsys):
    from memrestore.cli.main import main
    from memrestore.data.timelapse_dataset import read_timelapse

    for i in range(3):
        write_image(tmp_path / "clean" / f"f{i}.png", smooth_image(rng, 32, 32))
    assert main(["synth", "--task", "timelapse", "--frames", "4", "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "tl")]) == 0
    scenes = read_timelapse(str(tmp_path / "tl"))
    assert len(scenes) == 3 and all(len(s.frames) == 4 and s.clean is not None for s in scenes)
    assert main(["synth", "--task", "timelapse", "--frames", "4", "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "tl"),
                 "--preview"]) == 0  # reused, and previewed from its files
    assert (tmp_path / "tl" / "preview.png").is_file() and len(read_timelapse(str(tmp_path / "tl"))) == 3
    assert main(["synth", "--task", "deblur", "--average", "3", "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "avg"),
                 "--preview"]) == 0
    assert (tmp_path / "avg" / "preview.png").is_file()
    assert [p.name for p in read_layout("paired", str(tmp_path / "avg"))] == ["f1"]  # one window, middle frame
    np.save(tmp_path / "f0.npy", np.zeros((32, 32), np.float32))
    (tmp_path / "depth").mkdir()
    for i in range(3):
        np.save(tmp_path / "depth" / f"f{i}.npy", np.zeros((16, 16), np.float32))  # zero depth: no haze
    assert main(["synth", "--task", "dehaze", "--depth", str(tmp_path / "depth"), "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "hz")]) == 0
    pair = read_layout("paired", str(tmp_path / "hz"))[0]
    assert pair.input.read_bytes() == pair.target.read_bytes()
    capsys.readouterr()
    assert main(["synth", "--task", "dehaze", "--depth", str(tmp_path), "--clean", str(tmp_path / "clean"), "-o", str(tmp_path / "bad")]) == 2
    assert "f1.png: no depth file" in capsys.readouterr().err


def test_varying_blur_blends_anchor_kernels_and_one_anchor_is_the_plain_renderer(rng):
    clean = smooth_image(rng, 64, 96)
    ranges = {"length": (6.0, 14.0), "noise": (0.0, 0.01)}
    plain, kernel = degrade.add_motion_blur(clean, np.random.default_rng(5), ranges=ranges)
    one, kernels = degrade.add_varying_motion_blur(clean, np.random.default_rng(5), 1, ranges)
    assert np.array_equal(plain, one) and np.array_equal(kernels[0, 0], kernel)  # same draws, same image
    for length in (7, 64, 96):
        for cells in (1, 2, 4):
            weights = degrade.blur.anchor_weights(length, cells)
            assert weights.shape == (cells, length) and np.allclose(weights.sum(axis=0), 1.0) and weights.min() >= 0
    noiseless = {"length": (6.0, 14.0), "noise": (0.0, 0.0)}
    varying, kernels = degrade.add_varying_motion_blur(clean, np.random.default_rng(6), 2, noiseless)
    assert kernels.shape[:2] == (2, 2) and np.allclose(kernels.sum(axis=(2, 3)), 1.0, atol=1e-5)
    corner = apply_kernel(clean, kernels[0, 0])  # before the first anchors' centres only their kernel applies
    assert np.allclose(varying[:16, :24], corner[:16, :24], atol=1e-5)
    assert not np.allclose(varying[-16:, -24:], corner[-16:, -24:], atol=1e-3)
    with pytest.raises(ValueError, match="at least 1"):
        degrade.add_varying_motion_blur(clean, rng, 0)
