"""Large-image inference (tiling, memory budget, TTA), export to ONNX/TorchScript, info, and the
restore command's file handling."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import memrestore
from memrestore.checkpoint import save_checkpoint
from memrestore.recipes import load_config
from memrestore.errors import MemrestoreError
from memrestore.export import export
from memrestore.inference import InferenceOptions, restore, run_model
from memrestore.inference.budget import activation_bytes_per_pixel, parse_bytes, tile_for_budget
from memrestore.inference.tiling import ramp_weights, receptive_field_radius, tile_starts
from memrestore.io import read_image
from memrestore.models import build_model
from memrestore.models.complexity import count_macs, count_parameters

from tests.helpers import run_cli


def trained_like(model: torch.nn.Module) -> torch.nn.Module:
    """Give the zero-initialised residual scales (memrestore's ``scale``, NAFNet's ``beta`` and ``gamma``)
    a value so every block contributes."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("scale", "beta", "gamma")):
                p.uniform_(0.3, 0.7)
    return model.eval()


@pytest.fixture
def local_model():
    return trained_like(build_model("unet", width=8, depths=[1, 1], middle=1, channel_attention=False))


def test_blend_weights_are_complementary():
    margin, blend, overlap = 5, 8, 18
    left = ramp_weights(40, False, True, margin, blend)
    right = ramp_weights(40, True, False, margin, blend)
    np.testing.assert_allclose((left[40 - overlap :] + right[:overlap]).numpy(), 1.0, atol=1e-12)
    assert tile_starts(100, 40, 18) == [0, 22, 44, 60] and tile_starts(30, 40, 18) == [0]


def test_tiled_equals_whole_image_when_overlap_covers_receptive_field(local_model):
    radius = receptive_field_radius(local_model)
    assert radius is not None and 5 < radius < 60
    x = torch.rand(1, 3, 157, 203)
    whole = run_model(local_model, x)
    overlap = 2 * radius + 1 + 16  # receptive-field diameter + the blend ramp
    overlap += -overlap % 4
    tiled = restore(local_model, x, InferenceOptions(tile=72, overlap=overlap))
    assert (tiled - whole).abs().max().item() <= 1e-4
    too_small = restore(local_model, x, InferenceOptions(tile=72, overlap=16))
    assert (too_small - whole).abs().max().item() > 1e-3  # the guarantee is not vacuous


def test_image_that_fits_in_a_tile_is_untouched(local_model):
    x = torch.rand(1, 3, 50, 60)
    assert torch.equal(restore(local_model, x, InferenceOptions(tile=64, overlap=16)), run_model(local_model, x))


def test_global_pooling_model_has_no_finite_receptive_field():
    model = trained_like(build_model("unet", width=8, depths=[1], middle=1))
    assert receptive_field_radius(model) is None


def test_tta_is_the_mean_of_the_eight_dihedral_restorations(local_model):
    x = torch.rand(1, 3, 24, 36)
    expected = torch.zeros_like(x)
    for k in range(4):
        for flip in (False, True):
            t = torch.rot90(x, k, (2, 3))
            t = t.flip(3) if flip else t
            y = run_model(local_model, t)
            y = y.flip(3) if flip else y
            expected += torch.rot90(y, -k, (2, 3))
    torch.testing.assert_close(restore(local_model, x, InferenceOptions(tta=True)), expected / 8)
    assert not torch.allclose(expected / 8, run_model(local_model, x))


def test_memory_budget_sets_tile_size(local_model):
    assert parse_bytes("2GB") == 2 * 2**30 and parse_bytes("512M") == 512 * 2**20 and parse_bytes(1000) == 1000
    with pytest.raises(MemrestoreError, match="cannot read memory size"):
        parse_bytes("lots")
    per_pixel = activation_bytes_per_pixel(local_model)
    assert per_pixel > 8 * 4  # at least one 8-channel float map per pixel
    small = tile_for_budget(local_model, 3000, 4000, parse_bytes("2GB"), 4, 32)
    large = tile_for_budget(local_model, 3000, 4000, parse_bytes("4GB"), 4, 32)
    assert small % 4 == 0 and 64 <= small < large
    with pytest.raises(MemrestoreError, match="too small"):
        tile_for_budget(local_model, 3000, 4000, parse_bytes("100MB"), 4, 32)


def test_params_and_macs_follow_the_counting_convention():
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1))
    assert count_parameters(conv) == 3 * 8 * 9 + 8
    assert count_macs(conv, 16, 16) == 16 * 16 * 8 * 3 * 9


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("attention", [True, False])
def test_export_matches_pytorch(tmp_path, fmt, attention):
    model = trained_like(build_model("unet", width=8, depths=[1, 1], middle=1, channel_attention=attention))
    path = tmp_path / ("m.onnx" if fmt == "onnx" else "m.pt")
    worst = export(model, path, fmt)
    assert path.is_file() and worst <= 1e-4


@pytest.fixture
def checkpoint(tmp_path):
    config = load_config(None, ["model.width=8", "model.depths=[1, 1]", "model.middle=1"])
    model = trained_like(memrestore.model_from_config(config.model))
    return save_checkpoint(tmp_path / "ckpt", model, config, step=7)


def test_info_and_export_commands(tmp_path, checkpoint):
    result = run_cli("info", str(checkpoint))
    assert result.returncode == 0, result.stderr
    assert "parameters" in result.stdout and "MACs at 256x256" in result.stdout and "7 steps" in result.stdout
    result = run_cli("export", str(checkpoint), "--format", "onnx", "-o", str(tmp_path / "x.onnx"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.onnx").is_file() and "max |diff|" in result.stdout


def test_restore_keeps_metadata_and_skips_existing(tmp_path, checkpoint, rng):
    src = tmp_path / "in"
    src.mkdir()
    photo = Image.fromarray(rng.integers(0, 256, (30, 40, 3)).astype(np.uint8))
    exif = photo.getexif()
    exif[0x010F] = "memrestore-test-camera"  # Make
    icc = b"\x00" * 128  # an opaque ICC blob is carried byte for byte
    photo.save(src / "a.jpg", exif=exif.tobytes(), icc_profile=icc, quality=95)
    rgba16 = rng.integers(0, 65536, (20, 24, 4)).astype(np.uint16)
    from memrestore.io import ImageData, write_image

    write_image(src / "b.png", ImageData(rgba16[..., :3], alpha=rgba16[..., 3]))
    out = tmp_path / "out"
    result = run_cli("restore", str(src / "*.jpg"), str(src / "b.png"), "-o", str(out), "--checkpoint", str(checkpoint), "--tile", "16", "--overlap", "8",
                     "--local-pooling", "16")
    assert result.returncode == 0, result.stderr
    restored = Image.open(out / "a.jpg")
    assert restored.info.get("icc_profile") == icc and restored.getexif()[0x010F] == "memrestore-test-camera"
    b = read_image(out / "b.png")
    assert b.pixels.dtype == np.uint16 and np.array_equal(b.alpha, rgba16[..., 3])
    again = run_cli("restore", str(src), "-o", str(out), "--checkpoint", str(checkpoint))
    assert again.returncode == 1 and "exists (use --overwrite" in again.stderr
    skipped = run_cli("restore", str(src), "-o", str(out), "--checkpoint", str(checkpoint), "--skip-existing")
    assert skipped.returncode == 0 and "2 already done (skipped)" in skipped.stdout
    inplace = run_cli("restore", str(src / "b.png"), "-o", str(src), "--checkpoint", str(checkpoint), "--overwrite")
    assert inplace.returncode == 1 and "would overwrite the input" in inplace.stderr
    assert np.array_equal(read_image(src / "b.png").pixels, rgba16[..., :3])


def test_api_load_with_tiling(tmp_path, checkpoint):
    whole = memrestore.load(checkpoint, device="cpu")
    tiled = memrestore.load(checkpoint, device="cpu", tile=32, overlap=16)
    image = np.random.default_rng(3).random((70, 90, 3)).astype(np.float32)
    assert np.abs(whole(image) - tiled(image)).max() < 0.05  # global pooling: close, not identical
    local = memrestore.load(checkpoint, device="cpu", local_pooling=32)  # pools sized for 32-px training crops
    crop = image[:32, :32]
    assert np.array_equal(local(crop), whole(crop)) and not np.array_equal(local(image), whole(image))
