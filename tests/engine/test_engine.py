"""Training engine: exact resume (SIGKILL and Ctrl-C), EMA, schedules, accumulation, AMP, guards,
torchrun DDP, logging and plots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from memrestore.recipes import load_config
from memrestore.engine.distributed import ResumableSampler
from memrestore.engine.ema import ModelEMA
from memrestore.engine.state import load_state, save_state
from memrestore.engine.trainer import Trainer
from memrestore.errors import Interrupted
from memrestore.errors import ConfigError, MemrestoreError

from tests.helpers import interrupt_at


def tiny(tmp_path, paired_root, name="run", **extra):
    settings = {
        "name": name,
        "output_dir": str(tmp_path / "runs"),
        "model.width": 8, "model.depths": [1], "model.middle": 1,
        "data.train.root": str(paired_root), "data.train.patch_size": 32, "data.train.batch_size": 4,
        "train.iterations": 12, "train.checkpoint_every": 100, "train.log_every": 1,
        "train.scheduler.warmup_iters": 3, "train.optimizer.lr": 1e-3, "train.ema": 0.9,
    }
    settings.update(extra)
    return load_config(None, [f"{k}={json.dumps(v)}" for k, v in settings.items()])


def weights(path):
    return load_file(str(path))


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path, paired_root):
    steps = 400
    reference = tiny(tmp_path, paired_root, "reference", **{"train.iterations": steps})
    Trainer(reference, progress=False).fit()

    config = tiny(tmp_path, paired_root, "killed", **{"train.iterations": steps, "train.checkpoint_every": 25})
    config_path = tmp_path / "killed.yaml"
    config_path.write_text(yaml.safe_dump(config.to_dict()))
    proc = subprocess.Popen([sys.executable, "-m", "memrestore.cli.main", "train", str(config_path), "--quiet"])
    state_file = config.run_dir / "resume.safetensors"
    deadline = time.time() + 120
    while not state_file.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # land somewhere between two checkpoints
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    saved_step = load_state(state_file)["step"]
    assert 0 < saved_step < steps

    resumed = Trainer(config, progress=False, resume=True)
    assert resumed.step == saved_step
    resumed.fit()
    assert_same_weights(weights(config.run_dir / "model.safetensors"), weights(reference.run_dir / "model.safetensors"))
    assert_same_weights(weights(config.run_dir / "model_ema.safetensors"), weights(reference.run_dir / "model_ema.safetensors"))
    steps_logged = [json.loads(l)["step"] for l in open(config.run_dir / "log.jsonl") if '"loss"' in l]
    assert steps_logged == sorted(set(steps_logged))  # the redone steps were not logged twice


def test_ctrl_c_saves_state_and_resume_is_exact(tmp_path, paired_root, monkeypatch):
    reference = Trainer(tiny(tmp_path, paired_root, "ref"), progress=False)
    reference.fit()

    config = tiny(tmp_path, paired_root, "interrupted")
    trainer = Trainer(config, progress=False)
    interrupt_at(monkeypatch, 7)
    with pytest.raises(Interrupted, match="interrupted at step 7"):
        trainer.fit()

    resumed = Trainer(config, progress=False, resume=True)
    assert resumed.step == 7 and resumed.scheduler.last_epoch == 7
    resumed.fit()
    assert resumed.scheduler.state_dict()["_last_lr"] == reference.scheduler.state_dict()["_last_lr"]
    for a, b in zip(resumed.ema.module.parameters(), reference.ema.module.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(resumed.model.parameters(), reference.model.parameters()):
        assert torch.equal(a, b)


def test_existing_run_is_not_overwritten(tmp_path, paired_root):
    config = tiny(tmp_path, paired_root, **{"train.iterations": 1})
    Trainer(config, progress=False).fit()
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(config, progress=False)
    Trainer(config, progress=False, overwrite=True)


def test_ema_update_formula():
    model = torch.nn.Linear(3, 2)
    ema = ModelEMA(model, decay=0.9)
    before = ema.module.weight.clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    torch.testing.assert_close(ema.module.weight, 0.9 * before + 0.1 * model.weight, rtol=0, atol=1e-7)
    assert not ema.module.weight.requires_grad


def test_training_state_round_trip(tmp_path):
    model = torch.nn.Linear(4, 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1234567891)
    model(torch.rand(2, 4)).sum().backward()
    optimizer.step()
    state = {"optimizer": optimizer.state_dict(), "tuple": (1, 2.5, None), "nested": {3: [torch.arange(3)]}}
    save_state(tmp_path / "s.safetensors", state)
    back = load_state(tmp_path / "s.safetensors")
    assert back["tuple"] == (1, 2.5, None) and torch.equal(back["nested"][3][0], torch.arange(3))
    assert back["optimizer"]["param_groups"][0]["lr"] == 0.1234567891
    for key, value in optimizer.state_dict()["state"][0].items():
        assert torch.equal(back["optimizer"]["state"][0][key], value)


def test_sampler_resumes_mid_stream_and_splits_ranks():
    full = ResumableSampler(20, 3, seed=5)
    stream = iter(full)
    first = [next(stream) for _ in range(3 * 14)]  # crosses an epoch boundary (6 batches per epoch)
    later = iter(ResumableSampler(20, 3, seed=5, start_batch=4))
    assert [next(later) for _ in range(3 * 10)] == first[12:]
    assert len(set(i % 20 for i in first[:18])) == 18  # no repeats within an epoch
    rank0 = iter(ResumableSampler(20, 2, seed=5, rank=0, world_size=2))
    rank1 = iter(ResumableSampler(20, 2, seed=5, rank=1, world_size=2))
    a, b = {next(rank0) for _ in range(10)}, {next(rank1) for _ in range(10)}
    assert not a & b and len(a | b) == 20


def test_gradient_accumulation_matches_a_larger_batch(tmp_path, paired_root):
    common = {"train.iterations": 3, "train.ema": 0.0, "train.scheduler.name": "constant", "train.scheduler.warmup_iters": 0}
    big = Trainer(tiny(tmp_path, paired_root, "big", **common, **{"data.train.batch_size": 4}), progress=False)
    big.fit()
    acc = Trainer(tiny(tmp_path, paired_root, "acc", **common, **{"data.train.batch_size": 2, "train.accumulate": 2}), progress=False)
    acc.fit()
    for a, b in zip(big.model.parameters(), acc.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_multistep_and_warmup_schedule(tmp_path, paired_root):
    config = tiny(tmp_path, paired_root, **{"train.scheduler.name": "multistep", "train.scheduler.milestones": [6, 9],
                                            "train.scheduler.gamma": 0.1, "train.scheduler.warmup_iters": 2})
    trainer = Trainer(config, progress=False)
    lrs = []
    for _ in range(11):
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        trainer.optimizer.step()
        trainer.scheduler.step()
    np.testing.assert_allclose(lrs, [5e-4] + [1e-3] * 5 + [1e-4] * 3 + [1e-5] * 2, rtol=1e-9)


@pytest.mark.parametrize("options", [{"train.amp": "bf16"}, {"train.channels_last": True}])
def test_bf16_autocast_and_channels_last_train(tmp_path, paired_root, options):
    trainer = Trainer(tiny(tmp_path, paired_root, **options, **{"train.iterations": 4}), progress=False)
    trainer.fit()
    losses = [json.loads(l)["loss"] for l in open(trainer.run_dir / "log.jsonl") if '"loss"' in l]
    assert len(losses) == 4 and all(np.isfinite(losses))


def test_fp16_on_cpu_is_refused(tmp_path, paired_root):
    with pytest.raises(ConfigError, match="fp16 needs CUDA"):
        Trainer(tiny(tmp_path, paired_root, **{"train.amp": "fp16"}), progress=False)


def test_nonfinite_loss_stops_or_skips(tmp_path, paired_root, monkeypatch):
    from memrestore.losses.pixel import CharbonnierLoss

    monkeypatch.setattr(CharbonnierLoss, "forward", lambda self, p, t, d=None: (p - t).abs().mean() * float("nan"))
    with pytest.raises(MemrestoreError, match="non-finite loss at step 1 \\(term 'charbonnier'\\)"):
        Trainer(tiny(tmp_path, paired_root, "stop"), progress=False).fit()
    trainer = Trainer(tiny(tmp_path, paired_root, "skip", **{"train.skip_nonfinite": True, "train.iterations": 3,
                                                             "train.max_skipped": 1.0}), progress=False)
    before = [p.clone() for p in trainer.model.parameters()]
    trainer.fit()
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
    assert sum('"skipped"' in l for l in open(trainer.run_dir / "log.jsonl")) == 3
    assert trainer.summary["skipped_steps"] == 3  # said in the summary, not only in the log
    with pytest.raises(MemrestoreError, match="2 steps skipped for a non-finite loss by step 2, more than train.max_skipped=0.1 of 12"):
        Trainer(tiny(tmp_path, paired_root, "skip-limit", **{"train.skip_nonfinite": True}), progress=False).fit()


def test_validation_samples_tensorboard_and_plot(tmp_path, paired_root):
    config = tiny(tmp_path, paired_root, **{"data.val": {"root": str(paired_root)}, "train.val_every": 4,
                                            "train.tensorboard": True, "train.iterations": 8})
    trainer = Trainer(config, progress=False)
    trainer.fit()
    run = trainer.run_dir
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000004.png", "step_0000008.png"]
    assert any(p.name.startswith("events.out.tfevents") for p in (run / "tb").iterdir())
    records = [json.loads(l) for l in open(run / "log.jsonl")]
    assert [r["step"] for r in records if "val_psnr" in r] == [4, 8]
    assert all("val_ema_psnr" in r for r in records if "val_psnr" in r)
    assert (run / "best.safetensors").is_file() and (run / "model_ema.safetensors").is_file()
    result = subprocess.run([sys.executable, "-m", "memrestore.cli.main", "plot", str(run)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    assert Image.open(run / "curves.png").size == (1500, 400)


def test_torchrun_two_processes_gloo(tmp_path, paired_root):
    config = tiny(tmp_path, paired_root, "ddp", **{"train.iterations": 5, "data.train.batch_size": 2})
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(config.to_dict()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "memrestore.cli.main", "train", str(path), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(l) for l in open(config.run_dir / "log.jsonl")]
    summary = records[-1]["summary"]
    assert summary["replica_max_abs_diff"] == 0.0 and summary["steps"] == 5
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4, 5]  # rank 0 alone writes
    assert result.stdout.count("trained unet") == 1


def test_progressive_patch_sizes_switch_at_their_step(tmp_path, paired_root):
    config = tiny(tmp_path, paired_root, **{"train.iterations": 5, "data.train.patch_size": 16,
                                            "data.train.patch_schedule": [[2, 24], [4, 32]]})
    trainer = Trainer(config, progress=False)
    sizes = []
    trainer.model.register_forward_pre_hook(lambda module, args: sizes.append(args[0].shape[-1]))
    trainer.fit()
    assert sizes[:5] == [16, 16, 24, 24, 32]
    with pytest.raises(ConfigError, match=r"patch_schedule entries are \[step, size\]"):
        tiny(tmp_path, paired_root, **{"data.train.patch_schedule": [[2]]})
