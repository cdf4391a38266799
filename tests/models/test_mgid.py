"""MGID: MNAD memory read/update, BSW loss and its selection mask, time-lapse training, checkpoints."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import memrestore
from memrestore.checkpoint import save_checkpoint
from memrestore.recipes import load_config
from memrestore.io import write_image
from memrestore.models import build_model
from memrestore.models.bsw import BackgroundSelectiveWhitening, instance_covariance, whitening_loss
from memrestore.models.memory import ItemMemory

from tests.helpers import smooth_image

TINY = {"width": 8, "depths": [1, 1], "middle": 1, "memory_items": 6}


def test_read_weights_sum_to_one():
    memory = ItemMemory(6, 16, seed=0)
    queries = F.normalize(torch.randn(40, 16), dim=1)
    readout, weights = memory.read(queries)
    assert weights.shape == (40, 6) and readout.shape == (40, 16)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(40))
    assert torch.allclose(memory.items.norm(dim=1), torch.ones(6))


def test_update_moves_items_towards_their_queries_and_keeps_unit_norm():
    memory = ItemMemory(4, 8, seed=1)
    before = memory.items.clone()
    target = F.normalize(before[2] + 0.5 * F.normalize(torch.randn(8, generator=torch.Generator().manual_seed(0)), dim=0), dim=0)
    queries = F.normalize(target + 0.05 * torch.randn(10, 8, generator=torch.Generator().manual_seed(1)), dim=1)
    assert bool(((queries @ before.t()).argmax(dim=1) == 2).all())  # every query chose item 2
    memory.update(queries)
    assert torch.allclose(memory.items.norm(dim=1), torch.ones(4), atol=1e-6)
    assert float(memory.items[2] @ target) > float(before[2] @ target)  # moved towards its queries
    torch.testing.assert_close(memory.items[[0, 1, 3]], before[[0, 1, 3]])  # items nobody chose stay


def test_restart_reseeds_items_no_query_chose_at_the_worst_served_queries():
    memory = ItemMemory(4, 8, seed=1, restart=2)
    before = memory.items.clone()
    queries = F.normalize(before[2] + 0.3 * torch.randn(10, 8, generator=torch.Generator().manual_seed(1)), dim=1)
    assert bool(((queries @ before.t()).argmax(dim=1) == 2).all())  # every query chose item 2
    memory.update(queries)  # items 0, 1, 3 idle for one update: not yet restarted
    torch.testing.assert_close(memory.items[[0, 1, 3]], before[[0, 1, 3]])
    assert memory.idle.tolist() == [1, 1, 0, 1]
    served = (queries @ memory.items.t()).max(dim=1).values
    memory.update(queries)  # idle for two updates: re-seeded at the three worst-served queries
    worst = served.argsort()[:3]
    torch.testing.assert_close(memory.items[[0, 1, 3]], queries[worst])
    assert memory.idle.tolist() == [0, 0, 0, 0]
    assert "idle" not in ItemMemory(4, 8).state_dict()  # MNAD's memory (restart 0) keeps its checkpoint keys


def test_update_is_off_at_eval_and_deterministic_given_a_seed():
    x = torch.rand(2, 3, 16, 16)
    a, b = build_model("mgid", memory_seed=3, **TINY), build_model("mgid", memory_seed=3, **TINY)
    b.load_state_dict(a.state_dict())
    a.train(), b.train()
    a(x), b(x)
    assert torch.equal(a.memory.items, b.memory.items)
    frozen = a.memory.items.clone()
    a.eval()
    with torch.no_grad():
        a(x)
    assert torch.equal(a.memory.items, frozen)
    a.train()
    a(x)
    assert not torch.equal(a.memory.items, frozen)


def test_bsw_is_zero_for_whitened_features_and_positive_otherwise():
    mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
    assert float(whitening_loss(torch.eye(4)[None], mask)) == 0.0
    from scipy.linalg import hadamard

    whitened = torch.tensor(hadamard(16)[1:5], dtype=torch.float32).view(1, 4, 4, 4)  # orthogonal zero-mean channels
    assert float(whitening_loss(instance_covariance(whitened), mask)) < 1e-4
    correlated = whitened.clone()
    correlated[:, 1] = correlated[:, 0] + 0.1 * correlated[:, 1]
    assert float(whitening_loss(instance_covariance(correlated), mask)) > 0.1


def test_bsw_mask_selects_entries_that_vary_across_scenes_not_frames():
    """Channels 0/1 correlate by scene (background), 2/3 by frame (rain): only (0, 1) is selected."""
    generator = torch.Generator().manual_seed(0)
    bsw = BackgroundSelectiveWhitening(4, warmup=3, fraction=1 / 6)
    for _ in range(3):
        features, groups = [], []
        for scene in range(3):
            scene_mix = torch.rand((), generator=generator) * 2 - 1
            for frame in range(4):
                base = torch.randn(4, 8, 8, generator=generator)
                base[1] = scene_mix * base[0] + (1 - scene_mix.abs()) * base[1]
                rain_mix = torch.rand((), generator=generator) * 2 - 1
                base[3] = rain_mix * base[2] + (1 - rain_mix.abs()) * base[3]
                features.append(base)
                groups.append(scene)
        loss = bsw(torch.stack(features), torch.tensor(groups))
    assert bsw.ready and float(loss) > 0
    assert bsw.mask[0, 1] and not bsw.mask[2, 3] and int(bsw.mask.sum()) == 1
    assert float(bsw(torch.randn(2, 4, 8, 8), None)) > 0  # once built, the mask needs no groups


def test_timelapse_training_feeds_scene_groups_to_bsw(tmp_path, timelapse_root):
    from memrestore.engine.trainer import Trainer

    options = [f"model.{k}={json.dumps(v)}" for k, v in TINY.items()]
    config = load_config("mgid/derain_timelapse_cpu", [
        *options, "model.bsw_warmup=2", f"data.train.root={timelapse_root}", "data.train.patch_size=16",
        "train.iterations=4", "train.log_every=1", f"output_dir={tmp_path / 'runs'}",
    ])
    trainer = Trainer(config, progress=False)
    run = trainer.fit()
    assert trainer.model.bsw.ready and trainer.model.bsw.mask.any()
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    steps = [r for r in logged if "loss_bsw" in r]
    assert steps[-1]["loss_bsw"] > 0 and all(r["loss_compactness"] > 0 for r in steps)
    restorer = memrestore.load(run / "model.safetensors", device="cpu")  # items and mask travel with it
    assert torch.equal(restorer.model.memory.items, trainer.model.memory.items)
    assert torch.equal(restorer.model.bsw.mask, trainer.model.bsw.mask)


def test_mgid_without_memory_is_the_plain_unet_and_inspection_reads_items(tmp_path):
    plain = build_model("mgid", **{**TINY, "memory_items": 0})
    assert plain.memory is None and plain.auxiliary_losses() == {}
    config = load_config(None, ["model.name=mgid", *(f"model.{k}={json.dumps(v)}" for k, v in TINY.items())])
    path = save_checkpoint(tmp_path / "mgid", memrestore.model_from_config(config.model), config)
    write_image(tmp_path / "photo.png", np.random.default_rng(0).random((30, 44, 3)))
    result = subprocess.run([sys.executable, "-m", "memrestore.cli.main", "inspect", "memory", str(path),
                             str(tmp_path / "photo.png"), "-o", str(tmp_path / "map.png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "map.png").stat().st_size > 1000


def test_items_can_start_from_the_first_batch_queries():
    model = build_model("mgid", memory_init="queries", **TINY).train()
    random_start = model.memory.items.clone()
    model(torch.rand(2, 3, 16, 16))
    assert bool(model.memory.initialised) and not torch.allclose(model.memory.items, random_start)
    assert torch.allclose(model.memory.items.norm(dim=1), torch.ones(TINY["memory_items"]), atol=1e-6)
    with pytest.raises(ValueError, match="random or queries"):
        build_model("mgid", memory_init="kmeans", **TINY)


def test_equal_time_calibration_runs_on_timelapse_training(tmp_path, timelapse_root):
    """``steps_per_second`` decodes every training scene first, as a long run has (it once assumed pairs)."""
    from memrestore.bench.quality import steps_per_second

    options = [f"model.{k}={json.dumps(v)}" for k, v in TINY.items()]
    config = load_config("mgid/derain_timelapse_cpu", [
        *options, f"data.train.root={timelapse_root}", "data.train.patch_size=16", f"output_dir={tmp_path / 'runs'}"])
    assert steps_per_second(config, warmup=2, steps=2, repeats=1) > 0
