"""Tensor helpers: layout round trips, padding to a multiple, the eval-mode context."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from memrestore.tensors import chw_to_hwc, eval_mode, hwc_to_chw, model_device, pad_to_multiple


def test_layout_round_trip(rng):
    array = rng.random((5, 7, 3))
    tensor = hwc_to_chw(array)
    assert tensor.shape == (3, 5, 7) and tensor.dtype == torch.float32 and tensor.is_contiguous()
    assert np.allclose(chw_to_hwc(tensor), array, atol=1e-7)
    assert chw_to_hwc(tensor.requires_grad_()).shape == (5, 7, 3)  # detached for numpy


@pytest.mark.parametrize("size, multiple, padded", [((16, 24), 8, (16, 24)), ((13, 22), 8, (16, 24)), ((3, 5), 8, (8, 8))])
def test_pad_to_multiple(size, multiple, padded):
    x = torch.arange(size[0] * size[1], dtype=torch.float32).view(1, 1, *size)
    out, original = pad_to_multiple(x, multiple)
    assert original == size and tuple(out.shape[-2:]) == padded
    assert torch.equal(out[..., : size[0], : size[1]], x)  # padding only at the bottom / right


def test_eval_mode_restores_the_mode_even_when_the_block_raises():
    model = nn.Sequential(nn.Dropout(0.5)).train()
    with eval_mode(model) as inside:
        assert inside is model and not model.training
    assert model.training
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("boom")
    assert model.training
    model.eval()
    with eval_mode(model):
        pass
    assert not model.training


def test_model_device_of_parameter_free_and_empty_models():
    assert model_device(nn.Conv2d(1, 1, 1)) == torch.device("cpu")
    buffered = nn.Module()
    buffered.register_buffer("grey", torch.ones(3))
    assert model_device(buffered) == torch.device("cpu") and model_device(nn.Identity()) == torch.device("cpu")
