"""MCLIR: negative models from history, the SPN loss, exact resume, peer architectures, --init."""

from __future__ import annotations

import json

import pytest
import torch

from memrestore.checkpoint import load_initial_weights
from memrestore.config import SPNConfig
from memrestore.recipes import load_config
from memrestore.engine.spn import SelfPriorNegatives
from memrestore.engine.trainer import Trainer
from memrestore.errors import Interrupted
from memrestore.errors import CheckpointError
from memrestore.models import build_model

from tests.helpers import interrupt_at


UNET = {"name": "unet", "width": 8, "depths": [1], "middle": 1}


def config_for(tmp_path, paired_root, name="spn", model=UNET, **extra):
    settings = {
        "name": name, "output_dir": str(tmp_path / "runs"),
        **{f"model.{k}": v for k, v in model.items()},
        "model.spn.enabled": True, "model.spn.intervals": [1, 2], "model.spn.start": 0.25,
        "data.train.root": str(paired_root), "data.train.patch_size": 16, "data.train.batch_size": 2,
        "train.iterations": 8, "train.checkpoint_every": 100, "train.log_every": 1,
    }
    settings.update(extra)
    return load_config(None, [f"{k}={json.dumps(v)}" for k, v in settings.items()])


def test_refresh_follows_the_formula_and_the_intervals():
    model = torch.nn.Linear(2, 2)
    spn = SelfPriorNegatives(model, SPNConfig(enabled=True, intervals=[1, 3], start=0.5, decay=0.1), total_iterations=4)
    assert spn.schedule.start_step == 2 and not spn.active(1) and spn.active(2)
    initial = [n.weight.clone() for n in spn.negatives]
    with torch.no_grad():
        model.weight.add_(1.0)
    spn.refresh(1, model)  # before the start: nothing moves
    assert all(torch.equal(n.weight, w) for n, w in zip(spn.negatives, initial))
    spn.refresh(2, model)  # the start: every negative takes its first step
    for negative, before in zip(spn.negatives, initial):
        torch.testing.assert_close(negative.weight, 0.1 * before + 0.9 * model.weight)
    after_start = [n.weight.clone() for n in spn.negatives]
    with torch.no_grad():
        model.weight.add_(1.0)
    spn.refresh(3, model)  # interval 1 updates, interval 3 waits until step 5
    torch.testing.assert_close(spn.negatives[0].weight, 0.1 * after_start[0] + 0.9 * model.weight)
    assert torch.equal(spn.negatives[1].weight, after_start[1])
    assert all(not p.requires_grad for p in spn.negatives.parameters())


@pytest.mark.parametrize("form", ["ratio", "subtractive"])
def test_spn_loss_is_finite_at_the_negative_and_rewards_the_target(form):
    torch.manual_seed(0)
    spn = SelfPriorNegatives(torch.nn.Identity(), SPNConfig(enabled=True, form=form, weight=1.0), 10)
    target = torch.rand(2, 3, 32, 32)
    negative = (target + 0.3 * torch.rand_like(target)).clamp(0, 1)
    at_negative = spn.loss(negative, target, [negative])
    assert torch.isfinite(at_negative)
    values = [spn.loss(negative + t * (target - negative), target, [negative]).item() for t in (0.0, 0.5, 1.0)]
    assert values == sorted(values, reverse=True)  # moving toward the target lowers the loss


def test_spn_every_k_steps_scales_the_term_by_k_and_matches_the_formula():
    config = SPNConfig(enabled=True, features="pixel", weight=1.0, start=0.5, every=3)
    spn = SelfPriorNegatives(torch.nn.Identity(), config, total_iterations=10)
    assert [step for step in range(12) if spn.active(step)] == [5, 8, 11]
    torch.manual_seed(0)
    output, target = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    negatives = [torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)]
    pool = torch.nn.functional.avg_pool2d
    levels = lambda x: [x, pool(x, 2), pool(x, 4)]  # the pixel space's first three levels
    by_hand = sum(w * torch.stack([(a - n).abs().mean() for n in ns]).mean()
                  for w, a, *ns in zip(config.layer_weights, levels(output), *map(levels, negatives)))
    torch.testing.assert_close(spn.loss(output, target, negatives), -3 * by_hand)  # weight x every
    ratio = SelfPriorNegatives(torch.nn.Identity(), SPNConfig(enabled=True, features="pixel", form="ratio",
                                                                weight=1.0, eps=0.0), 10)
    to_target = sum(w * (a - t).abs().mean() / torch.stack([(a - n).abs().mean() for n in ns]).mean()
                    for w, a, t, *ns in zip(config.layer_weights, levels(output), levels(target), *map(levels, negatives)))
    torch.testing.assert_close(ratio.loss(output, target, negatives), to_target)


def test_negatives_get_no_gradient_during_training(tmp_path, paired_root):
    trainer = Trainer(config_for(tmp_path, paired_root), progress=False)
    trainer.fit()
    assert all(p.grad is None and not p.requires_grad for p in trainer.spn.negatives.parameters())
    records = [json.loads(l) for l in open(trainer.run_dir / "log.jsonl") if '"loss"' in l]
    assert [("loss_spn" in r) for r in records] == [False, False] + [True] * 6  # active from 25 % (step 3)
    model_params = dict(trainer.model.named_parameters())
    assert any(not torch.equal(p, model_params[n]) for n, p in trainer.spn.negatives[1].named_parameters())


def test_a_term_applied_every_k_steps_is_logged_with_its_latest_value(tmp_path, paired_root):
    trainer = Trainer(config_for(tmp_path, paired_root, **{"model.spn.every": 3, "train.log_every": 2}), progress=False)
    trainer.fit()  # SPN from 0-based step 2, then 5: never on a logged step but the first
    records = [json.loads(l) for l in open(trainer.run_dir / "log.jsonl") if '"loss"' in l]
    assert [(r["step"], "loss_spn" in r) for r in records] == [(1, False), (2, False), (4, True), (6, True), (8, True)]
    assert records[2]["loss_spn"] != records[3]["loss_spn"] == records[4]["loss_spn"]  # from step 3; step 6, kept at 8


def test_resume_restores_negative_models_exactly(tmp_path, paired_root, monkeypatch):
    reference = Trainer(config_for(tmp_path, paired_root, "reference"), progress=False)
    reference.fit()
    config = config_for(tmp_path, paired_root, "interrupted")
    interrupt_at(monkeypatch, 5)
    with pytest.raises(Interrupted):
        Trainer(config, progress=False).fit()
    resumed = Trainer(config, progress=False, resume=True)
    resumed.fit()
    for a, b in zip(resumed.spn.negatives.parameters(), reference.spn.negatives.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(resumed.model.parameters(), reference.model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name, options", [
    ("nafnet", {"width": 8, "enc_blk_nums": [1, 1], "dec_blk_nums": [1, 1]}),
    ("restormer", {"dim": 8, "num_blocks": [1, 1, 1, 1], "heads": [1, 1, 2, 2]}),
    ("swinir", {"embed_dim": 12, "depths": [1], "num_heads": [2], "window_size": 4}),
    ("mixdehazenet", {"dims": [8, 16, 16, 16, 8], "depths": [1, 1, 1, 1, 1]}),
])
def test_spn_trains_peer_architectures(tmp_path, paired_root, name, options):
    pytest.importorskip("spandrel")
    config = config_for(tmp_path, paired_root, name, model={"name": name, **options},
                        **{"train.iterations": 2, "model.spn.start": 0.0})
    trainer = Trainer(config, progress=False)
    trainer.fit()
    records = [json.loads(l) for l in open(trainer.run_dir / "log.jsonl") if '"loss"' in l]
    assert all("loss_spn" in r and r["loss"] == r["loss"] for r in records)
    out = trainer.model(torch.rand(1, 3, 19, 23))
    assert out.shape == (1, 3, 19, 23)


def test_init_from_memrestore_checkpoint_and_peer_pth(tmp_path, paired_root):
    first = Trainer(config_for(tmp_path, paired_root, "first", **{"model.spn.enabled": False, "train.iterations": 2}), progress=False)
    first.fit()
    tuned = Trainer(config_for(tmp_path, paired_root, "tuned", **{"train.iterations": 1}), progress=False,
                    init=first.run_dir / "model.safetensors")
    for a, b in zip(tuned.model.parameters(), first.model.parameters()):
        assert torch.equal(a, b)
    pytest.importorskip("spandrel")
    peer = build_model("nafnet", width=8, enc_blk_nums=[1], dec_blk_nums=[1])
    torch.save({"params": peer.net.state_dict()}, tmp_path / "NAFNet-official.pth")  # BasicSR-style release
    fresh = build_model("nafnet", width=8, enc_blk_nums=[1], dec_blk_nums=[1])
    load_initial_weights(fresh, tmp_path / "NAFNet-official.pth")
    for a, b in zip(fresh.parameters(), peer.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointError, match="do not match"):
        load_initial_weights(build_model("nafnet", width=16, enc_blk_nums=[1], dec_blk_nums=[1]), tmp_path / "NAFNet-official.pth")
