"""The console command end to end: train -> restore -> eval on a tiny generated dataset, and
one-line errors (no traceback) for expected mistakes."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from memrestore.cli.main import main
from memrestore.io import read_image, write_image

from tests.helpers import run_cli


@pytest.mark.parametrize("command", [[], ["train"], ["restore"], ["eval"], ["demo"], ["app"]])
def test_help(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: memrestore" in result.stdout and len(result.stdout.splitlines()) > 3


def test_synth_help_lists_every_preset():
    """`synth --help` is written by hand (the CLI does not import the renderers); it must name every
    preset a task accepts, hand-set and fitted, in the order that makes the first the default."""
    from memrestore.cli.main import build_parser
    from memrestore.data.presets import TASKS, preset_names

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = commands.choices["synth"].description.replace(".", ";")
    for task in TASKS:
        assert f"{task} {' | '.join(preset_names(task))};" in text, task


@pytest.fixture
def tiny_config(tmp_path, paired_root) -> Path:
    config = {
        "name": "tiny",
        "output_dir": str(tmp_path / "runs"),
        "model": {"name": "unet", "width": 8, "depths": [1], "middle": 1},
        "data": {"train": {"root": str(paired_root), "patch_size": 16, "batch_size": 2}, "val": {"root": str(paired_root)}},
        "train": {"iterations": 6, "checkpoint_every": 3, "log_every": 2, "val_every": 3},
        "eval": {"convention": "y"},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_restore_eval(tmp_path, tiny_config, paired_root, capsys):
    assert main(["train", str(tiny_config), "--quiet", "--set", "train.iterations=4"]) == 0
    run = tmp_path / "runs" / "tiny"
    for name in ("config.yaml", "log.jsonl", "last.safetensors", "best.safetensors", "model.safetensors", "model.json"):
        assert (run / name).is_file(), name
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["iterations"] == 4

    out = tmp_path / "restored"
    assert main(["restore", str(paired_root / "input"), "-o", str(out), "--checkpoint", str(run)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["img0.png", "img1.png", "img2.png"]
    assert read_image(out / "img0.png").pixels.shape == (48, 64, 3)

    capsys.readouterr()
    assert main(["eval", "--pred", str(out), "--target", str(paired_root / "target"), "--convention", "y-matlab"]) == 0
    printed = capsys.readouterr().out
    assert "convention: y-matlab" in printed and "mean" in printed
    rows = list(csv.DictReader(open(out / "metrics_y-matlab.csv")))
    assert [r["name"] for r in rows] == ["img0", "img1", "img2", "mean"]
    assert all(r["convention"] == "y-matlab" for r in rows)
    assert float(rows[-1]["psnr"]) == pytest.approx(np.mean([float(r["psnr"]) for r in rows[:3]]))


def test_restore_reports_bad_files_and_continues(tmp_path, tiny_config, paired_root):
    assert main(["train", str(tiny_config), "--quiet", "--set", "train.iterations=1", "--set", "data.val=null"]) == 0
    inputs = tmp_path / "mixed"
    write_image(inputs / "good.png", np.zeros((20, 20, 3), np.uint8))
    (inputs / "broken.png").write_text("nope")
    result = run_cli("restore", str(inputs), "-o", str(tmp_path / "o"), "--checkpoint", str(tmp_path / "runs" / "tiny"))
    assert result.returncode == 1
    assert "broken.png: not an image file" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "o" / "good.png").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "missing.yaml"], "missing.yaml: config file not found"),
        (["restore", "nowhere.png", "-o", "out", "--checkpoint", "x.safetensors"], "nowhere.png: no such file"),
        (["eval", "--pred", "p", "--target", "t"], "p: folder not found"),
    ],
)
def test_expected_mistakes_are_one_line_errors(tmp_path, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "memrestore.cli.main", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memrestore: error: ") and message in lines[0]


def test_bad_config_key_is_one_line(tmp_path, tiny_config):
    data = yaml.safe_load(tiny_config.read_text())
    data["train"]["iterashuns"] = 3
    tiny_config.write_text(yaml.safe_dump(data))
    result = run_cli("train", str(tiny_config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown key 'iterashuns'; did you mean 'iterations'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
