"""The README's main command: `memrestore demo` restores every task with the packaged models, no training."""

from __future__ import annotations

import numpy as np
import pytest

from memrestore.data.degrade import add_rain
from memrestore.demo import REAL_SETS, _photo, demo_pairs, run_demo
from memrestore.io import write_image
from memrestore.pretrained import TASKS, model_cards

from tests.helpers import run_cli

DEMO_TASKS = list(TASKS)


def test_demo_restores_every_task_with_the_packaged_models(tmp_path, capsys):
    missing = [task for task in DEMO_TASKS if task not in model_cards()]
    assert not missing, f"no packaged default for {missing}"
    assert run_demo(tmp_path, real=None, strict=True) == 0  # every task gains on synthetic degradations
    printed = capsys.readouterr().out
    for task in DEMO_TASKS:
        assert (tmp_path / task / "comparison.png").is_file() and len(list((tmp_path / task).glob("*.png"))) == 3
        assert f"{task}: 2 pairs from synthetic, on scikit-image photos" in printed


def test_demo_prefers_real_pairs_and_rejects_bad_options(tmp_path):
    real = tmp_path / "real" / REAL_SETS["derain"]
    clean = _photo("coffee.png")
    write_image(real / "target" / "coffee.png", clean)
    write_image(real / "input" / "coffee.png", add_rain(clean, np.random.default_rng(3)))
    done = run_cli("demo", "--real", str(tmp_path / "real"), "--task", "derain", "--strict", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert f"derain: 1 pairs from {real} (real), convention y-matlab" in done.stdout
    assert (tmp_path / "out" / "derain" / "coffee.png").is_file()
    for bad, message in ((["--real", str(tmp_path / "nowhere")], "--real folder not found"),
                         (["--set", "train.iterations=3"], "--set only applies to the training demo")):
        failed = run_cli("demo", *bad, "--out", str(tmp_path / "out"))
        assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and message in failed.stderr


def test_demo_shows_the_held_out_pairs_a_suite_made_card_records(tmp_path):
    real = tmp_path / "real" / "derain-Rain12"
    clean = _photo("coffee.png")[:64, :64]
    for k in range(1, 5):
        write_image(real / "target" / f"{k}.png", clean)
        write_image(real / "input" / f"{k}.png", add_rain(clean, np.random.default_rng(k)))
    card = {"metrics": {"Rain12-even": {"convention": "y-matlab"}},
            "tests": {"rendered": {"root": "", "synth": {"clean": "photos", "task": "derain"}, "convention": "rgb"},
                      "elsewhere": {"root": "../shared/data/real/not-here", "convention": "rgb"},
                      "Rain12-even": {"root": "../shared/data/real/derain-Rain12", "layout": "paired",
                                      "include": "*[02468].png", "convention": "y-matlab"}}}
    folder, convention, pairs = demo_pairs("derain", tmp_path / "real", card)
    assert folder == real and convention == "y-matlab" and [name for name, *_ in pairs] == ["2.png", "4.png"]
    card["tests"]["Rain12-even"]["crop"] = [0.5, 0, 1, 1]  # a held-out region: the right halves
    assert [degraded.shape[:2] for _, degraded, _ in demo_pairs("derain", tmp_path / "real", card)[2]] == [(64, 32)] * 2
    card["tests"]["Rain12-even"]["include"] = "none-*.png"  # nothing held out here: the set's first pairs
    assert [name for name, *_ in demo_pairs("derain", tmp_path / "real", card)[2]] == ["1.png", "2.png", "3.png", "4.png"]
    assert demo_pairs("derain", None, card)[:2] == (None, "rgb")  # no real folder: synthetic, scored in RGB


def test_demo_without_packaged_models_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEMRESTORE_MODELS", str(tmp_path))
    assert run_demo(tmp_path / "out", real=None, tasks=["dehaze"]) == 1
    assert "dehaze: no packaged model yet" in capsys.readouterr().out


@pytest.mark.parametrize("task", DEMO_TASKS)
def test_model_cards_compare_with_input_and_peer(task):
    card = model_cards()[task]
    assert f"--task {task}" in card.data["training"]["command"]  # package_default (before suites) or bench package
    for name, metrics in card.metrics.items():
        assert {"psnr", "ssim", "input_psnr", "input_ssim", "peer_psnr", "convention", "pairs"} <= set(metrics), name
    assert card.checkpoint.stat().st_size <= 10 * 2**20
