"""Architectures, losses, checkpoints and the Python API."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import memrestore
from memrestore.checkpoint import read_checkpoint, save_checkpoint
from memrestore.recipes import load_config
from memrestore.errors import CheckpointError, ConfigError
from memrestore.losses import build_loss
from memrestore.models import build_model


@pytest.fixture
def small_config():
    return load_config(None, ["model.width=8", "model.depths=[1, 1]", "model.middle=1"])


@pytest.mark.parametrize("size", [(17, 23), (32, 32), (5, 7), (1, 1)])
def test_unet_accepts_any_size(size):
    model = build_model("unet", width=8, depths=[1, 1], middle=1)
    x = torch.rand(2, 3, *size)
    assert model(x).shape == x.shape


def test_unet_starts_as_identity_and_learns():
    torch.manual_seed(0)
    model = build_model("unet", width=8, depths=[1], middle=1)
    x = torch.rand(1, 3, 16, 16)
    # Residual blocks start with zero scale; only intro/ending convs act at initialisation.
    target = x.clamp(0.2, 0.8)
    loss = build_loss("charbonnier")
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = loss(model(x), target).item()
    for _ in range(30):
        optimiser.zero_grad()
        value = loss(model(x), target)
        value.backward()
        optimiser.step()
    assert value.item() < first


def test_edge_loss_zero_for_identical_and_flat_offsets():
    edge = build_loss("edge")
    x = torch.rand(1, 3, 32, 32)
    assert edge(x, x).item() == pytest.approx(1e-3, abs=1e-6)  # Charbonnier floor: sqrt(eps^2)
    assert edge(x, x + 0.1).item() < edge(x, torch.rand(1, 3, 32, 32)).item()


def test_degradation_weighted_l1_counts_degraded_pixels_more():
    target = torch.zeros(1, 3, 4, 4)
    degraded = target.clone()
    degraded[..., 0, 0] = 0.5  # one degraded pixel: weight 1 + 10 * 0.5 = 6, the other 15 weigh 1
    loss = build_loss("degradation_weighted_l1", gain=10.0)
    error_there, error_elsewhere = target.clone(), target.clone()
    error_there[..., 0, 0] = 0.3
    error_elsewhere[..., 3, 3] = 0.3
    assert loss(error_there, target, degraded).item() == pytest.approx(6 * 0.3 / 21)
    assert loss(error_elsewhere, target, degraded).item() == pytest.approx(0.3 / 21)
    untouched = torch.rand(2, 3, 8, 8)  # nothing degraded: plain L1
    assert loss(untouched, target.new_zeros(2, 3, 8, 8), target.new_zeros(2, 3, 8, 8)).item() == pytest.approx(
        untouched.mean().item())
    with pytest.raises(ConfigError, match="gain must be >= 0"):
        build_loss("degradation_weighted_l1", gain=-1.0)


def test_checkpoint_round_trip(tmp_path, small_config):
    model = memrestore.model_from_config(small_config.model)
    path = save_checkpoint(tmp_path / "m", model, small_config, step=3)
    assert path.suffix == ".safetensors" and path.with_suffix(".json").is_file()
    loaded = read_checkpoint(path)
    assert loaded.config == small_config and loaded.metadata["step"] == 3
    restorer = memrestore.load(path, device="cpu")
    x = torch.rand(1, 3, 20, 24)
    torch.testing.assert_close(restorer.restore_tensor(x), model.eval()(x).clamp(0, 1))


def test_checkpoint_errors(tmp_path, small_config):
    with pytest.raises(CheckpointError, match="not found"):
        memrestore.load(tmp_path / "none.safetensors")
    (tmp_path / "w.pth").write_bytes(b"\x80\x04pickle")
    with pytest.raises(CheckpointError, match="pickled"):
        read_checkpoint(tmp_path / "w.pth")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        read_checkpoint(tmp_path / "bad.safetensors")
    model = memrestore.model_from_config(small_config.model)
    path = save_checkpoint(tmp_path / "m", model, small_config)
    wider = load_config(None, ["model.width=12", "model.depths=[1, 1]", "model.middle=1"])
    from memrestore.checkpoint import load_weights

    with pytest.raises(CheckpointError, match="do not match"):
        load_weights(memrestore.model_from_config(wider.model), read_checkpoint(path).state_dict, path)


@pytest.mark.parametrize(
    "image",
    [
        np.random.default_rng(0).integers(0, 256, (13, 17, 3)).astype(np.uint8),
        np.random.default_rng(0).integers(0, 65536, (13, 17, 3)).astype(np.uint16),
        np.random.default_rng(0).random((13, 17, 3)).astype(np.float32),
        np.random.default_rng(0).integers(0, 256, (13, 17)).astype(np.uint8),
        np.random.default_rng(0).integers(0, 256, (13, 17, 4)).astype(np.uint8),
    ],
    ids=["uint8", "uint16", "float32", "grey", "rgba"],
)
def test_restorer_keeps_type_shape_dtype_and_alpha(tmp_path, small_config, image):
    restorer = memrestore.Restorer(memrestore.model_from_config(small_config.model), small_config, torch.device("cpu"))
    out = restorer(image)
    assert out.shape == image.shape and out.dtype == image.dtype
    if image.ndim == 3 and image.shape[2] == 4:
        np.testing.assert_array_equal(out[..., 3], image[..., 3])


def test_restorer_pil_and_tensor(small_config):
    restorer = memrestore.Restorer(memrestore.model_from_config(small_config.model), small_config, torch.device("cpu"))
    pil = Image.new("RGB", (21, 11), (120, 30, 200))
    out = restorer(pil)
    assert isinstance(out, Image.Image) and out.size == pil.size and out.mode == "RGB"
    assert restorer(torch.rand(3, 9, 10)).shape == (3, 9, 10)
    with pytest.raises(ValueError, match="expected an HxW"):
        restorer(np.zeros((4, 4, 5), np.uint8))


def test_import_is_light():
    code = "import sys, memrestore; memrestore.__version__; print('torch' in sys.modules, 'cv2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
