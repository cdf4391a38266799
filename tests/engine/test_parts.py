"""The parts of a run built alone from a config, the random-generator state, and the checks that need
the device."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from memrestore.engine.parts import LossSet, build_parts, check_runtime
from memrestore.engine.state import load_state, rng_state, save_state, seed_everything, set_rng_state
from memrestore.errors import ConfigError
from memrestore.models.interface import RestorationModel
from memrestore.recipes import load_config


def config_for(paired_root, **extra):
    settings = {"model.width": 8, "model.depths": [1], "model.middle": 1, "data.train.root": str(paired_root),
                "data.train.patch_size": 32,
                "data.val": {"type": "paired", "root": str(paired_root)}, "train.ema": 0.9, "train.iterations": 10,
                "train.optimizer": {"name": "adamw", "lr": 1e-3}, "train.scheduler.warmup_iters": 4,
                "train.losses": [{"name": "l1", "weight": 2.0}, {"name": "charbonnier"}], **extra}
    return load_config(None, [f"{k}={json.dumps(v)}" for k, v in settings.items()])


def test_build_parts_from_a_config(paired_root):
    config = config_for(paired_root)
    seed_everything(0)
    parts = build_parts(config, torch.device("cpu"))
    assert isinstance(parts.model, RestorationModel) and parts.ema is not None and parts.spn is None
    assert len(parts.val_set) == 3 and parts.train_set[0]["input"].shape == (3, 32, 32)
    assert isinstance(parts.optimizer, torch.optim.AdamW)
    assert parts.scheduler.get_last_lr()[0] == pytest.approx(1e-3 / 4)  # first warm-up step
    assert not parts.scaler.is_enabled()
    seed_everything(0)
    again = build_parts(config, torch.device("cpu"), main=False)
    assert again.val_set is None  # only the main rank validates
    for a, b in zip(parts.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)  # the seed decides the initial weights


def test_loss_set_is_the_weighted_sum(paired_root):
    losses = LossSet(config_for(paired_root))
    output, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    total, parts = losses(output, target, torch.rand(2, 3, 8, 8))
    assert set(parts) == {"l1", "charbonnier"}
    assert torch.allclose(total, 2.0 * parts["l1"] + parts["charbonnier"])
    assert torch.allclose(parts["l1"], (output - target).abs().mean())


def test_scheduled_term_counts_on_its_steps_only_with_its_weight_scaled(paired_root):
    # 10 iterations, start 0.3 -> from step 3, every 3rd step: steps 3, 6, 9, weight 2 x 3 there
    losses = LossSet(config_for(paired_root, **{"train.losses": [
        {"name": "l1", "weight": 2.0, "start": 0.3, "every": 3}, {"name": "charbonnier"}]}))
    output, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    l1 = (output - target).abs().mean()
    used = []
    for step in range(10):
        total, parts = losses(output, target, output, step=step)
        if "l1" in parts:
            used.append(step)
            assert torch.allclose(total, 6.0 * l1 + parts["charbonnier"])
        else:
            assert torch.allclose(total, parts["charbonnier"])
    assert used == [3, 6, 9]
    total, parts = losses(output, target, output)  # no step (e.g. scoring a model): every term, plain weight
    assert torch.allclose(total, 2.0 * l1 + parts["charbonnier"])


def test_rng_state_round_trip_through_a_state_file(tmp_path):
    seed_everything(7)
    save_state(tmp_path / "state.safetensors", {"rng": rng_state()})
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    seed_everything(99)
    set_rng_state(load_state(tmp_path / "state.safetensors")["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first


def test_checks_that_need_the_device(paired_root):
    with pytest.raises(ConfigError, match="fp16 needs CUDA"):
        check_runtime(config_for(paired_root, **{"train.amp": "fp16"}), torch.device("cpu"))
    check_runtime(config_for(paired_root, **{"train.amp": "bf16"}), torch.device("cpu"))
