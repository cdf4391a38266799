"""Test-time local pooling (TLC): window means, the windows measured per scale, locality of the
restoration, and that the model is left as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from memrestore.errors import MemrestoreError
from memrestore.inference import InferenceOptions, restore, run_model
from memrestore.inference.local_pooling import LocalMean, global_pools, local_pooling, local_windows
from memrestore.models import build_model

from tests.inference.test_inference import trained_like


def brute_force_local_mean(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Each position's window starts (window - 1) // 2 before it, shifted inside the map at the borders."""
    rows, cols = x.shape[-2:]
    out = np.empty_like(x)
    for i in range(rows):
        top = min(max(i - (height - 1) // 2, 0), rows - height)
        for j in range(cols):
            left = min(max(j - (width - 1) // 2, 0), cols - width)
            out[..., i, j] = x[..., top:top + height, left:left + width].mean(axis=(-2, -1))
    return out


@pytest.mark.parametrize("window", [(1, 1), (4, 3), (5, 8), (11, 2)])
def test_local_mean_is_the_mean_of_the_window_around_each_position(window):
    x = torch.rand(2, 3, 11, 13, dtype=torch.float64)
    expected = brute_force_local_mean(x.numpy(), *window)
    np.testing.assert_allclose(LocalMean(*window)(x).numpy(), expected, atol=1e-6)


def test_local_mean_is_global_where_the_map_fits_in_the_window():
    x = torch.rand(1, 4, 6, 9)
    torch.testing.assert_close(LocalMean(9, 9)(x), x.mean((2, 3), keepdim=True))
    with pytest.raises(MemrestoreError, match="at least 1x1"):
        LocalMean(0, 3)


@pytest.fixture
def pooling_model():
    return trained_like(build_model("unet", width=8, depths=[1, 1], middle=1))


def test_windows_are_one_and_a_half_training_extents_at_every_scale(pooling_model):
    windows = local_windows(pooling_model, 32)
    assert set(windows) == set(global_pools(pooling_model)) and len(windows) == 5  # 2 encoder, middle, 2 decoder
    assert windows["encoders.0.0.body.3.gate.0"] == (48, 48) and windows["middle.0.body.3.gate.0"] == (12, 12)
    assert sorted(set(windows.values())) == [(12, 12), (24, 24), (48, 48)]  # full, half and quarter scale


def test_training_sized_input_restores_as_with_global_pooling(pooling_model):
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(restore(pooling_model, x, InferenceOptions(local_pooling=32)), run_model(pooling_model, x))


def test_local_pooling_makes_the_restoration_local_and_leaves_the_model_as_it_was(pooling_model):
    names = global_pools(pooling_model)
    x = torch.rand(1, 3, 64, 256)
    dark, bright = x.clone(), x.clone()
    dark[..., 64:], bright[..., 64:] = 0.0, 1.0  # the right three quarters black or white
    options = InferenceOptions(local_pooling=16)
    left = slice(0, 32)  # beyond every window (24 px at full scale) and the convolutions' reach
    local_diff = (restore(pooling_model, bright, options) - restore(pooling_model, dark, options))[..., left]
    global_diff = (run_model(pooling_model, bright) - run_model(pooling_model, dark))[..., left]
    assert local_diff.abs().max().item() < 1e-6
    assert global_diff.abs().max().item() > 2e-5  # global pooling carries the change across the image
    assert global_pools(pooling_model) == names
    with local_pooling(pooling_model, 16) as replaced:
        assert replaced == 5 and not global_pools(pooling_model)


def test_peer_network_pools_become_local():
    peer = trained_like(build_model("nafnet", width=8, enc_blk_nums=[1, 1], middle_blk_num=1, dec_blk_nums=[1, 1]))
    count = len(global_pools(peer))
    assert count >= 5
    x = torch.rand(1, 3, 64, 128)
    with local_pooling(peer, 16) as replaced:
        assert replaced == count
    assert not torch.allclose(restore(peer, x, InferenceOptions(local_pooling=16)), run_model(peer, x), atol=1e-4)


def test_bad_local_pooling_requests_fail_before_work(pooling_model):
    with pytest.raises(MemrestoreError, match="at least 0 pixels"):
        InferenceOptions(local_pooling=-1)
    with pytest.raises(MemrestoreError, match="multiple of the model's size multiple 4"):
        with local_pooling(pooling_model, 30):
            pass
