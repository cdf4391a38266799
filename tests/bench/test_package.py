"""`memrestore bench package`: a suite's trained model becomes a task's default in the models folder,
with a card that compares it with the input and the suite's baseline as peer, records its test sets,
and is checked again by `memrestore models --check`; wrong requests stop before any training."""

from __future__ import annotations

import json
import re

import numpy as np

import memrestore
from memrestore.bench.package import shortfalls
from tests.bench.test_bench import TINY_FAST, TINY_UNET, write_suite
from tests.helpers import run_cli


def checked_row(stdout: str, task: str, test_set: str, peer: str) -> re.Match | None:
    """A reproduced row of `models --check`: after train min, the input, card and measured PSNR, the gain
    over the input, the peer, its PSNR and the difference to it (the numbers as groups)."""
    return re.search(rf"\n{task} +{re.escape(test_set)} +[\d.]+ +([\d.]+) +([\d.]+) +([\d.]+) / [\d.]+ +([+-][\d.]+) +"
                     rf"{peer} +([\d.]+) +([+-][\d.]+) +yes\n", stdout)


def test_a_suite_model_is_packaged_with_a_card_that_models_check_reproduces(tmp_path, paired_root, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("MEMRESTORE_MODELS", str(models))
    suite = write_suite(tmp_path, paired_root)
    done = run_cli("bench", "package", str(suite), "--task", "derain", "--out", str(tmp_path / "out"),
                   "--work", str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# memrestore default model: derain")
    card = json.loads((models / "derain.json").read_text())
    assert card["summary"].startswith("fast (")  # the first method besides the baseline, which is the peer
    report = json.loads((tmp_path / "out" / "tiny.json").read_text())
    runs = {r["method"]: r for r in report["runs"]}
    metrics = card["metrics"]["pairs"]
    assert metrics["pairs"] == 3 and metrics["convention"] == "y-matlab" and card["peer"]["method"] == "unet"
    assert metrics["input_psnr"] == round(float(np.mean(report["inputs"]["pairs"])), 3)  # the suite's own input scores
    assert metrics["peer_psnr"] == round(float(np.mean(runs["unet"]["scores"]["pairs"])), 3)
    assert abs(metrics["psnr"] - np.mean(runs["fast"]["scores"]["pairs"])) < 0.05  # fp32 run vs its fp16 copy
    assert card["training"]["steps"] == 4 and card["training"]["data"] == f"real pairs of {paired_root}"
    assert card["training"]["command"] == f"memrestore bench quality {suite} && memrestore bench package {suite} --task derain"
    assert card["tests"]["pairs"]["root"] == str(paired_root)
    assert (models / "derain.md").read_text().count("| pairs (3 pairs, y-matlab) |") == 1

    restored = memrestore.load("derain", device="cpu").restore_array(np.full((24, 24, 3), 0.5, dtype=np.float32))
    assert restored.shape == (24, 24, 3)
    checked = run_cli("models", "--check")
    assert checked.returncode == 0, checked.stderr
    row = checked_row(checked.stdout, "derain", "pairs (3, y-matlab)", "unet")  # the peer: the suite's baseline
    assert row, checked.stdout
    input_psnr, card_psnr, psnr, gain, peer_psnr, versus_peer = map(float, row.groups())
    assert card_psnr == round(metrics["psnr"], 2) and peer_psnr == round(metrics["peer_psnr"], 2)
    assert abs(gain - (psnr - input_psnr)) <= 0.011 and abs(versus_peer - (psnr - peer_psnr)) <= 0.011
    markdown = run_cli("models", "--check", "--markdown")
    assert markdown.returncode == 0 and "\n| derain | pairs (3, y-matlab) | 0.0 | " in markdown.stdout, markdown.stdout
    local = run_cli("models", "--check", "--local-pooling", "16")  # beside it, restored with test-time local pooling
    assert local.returncode == 0, local.stderr
    assert re.search(r" yes +[\d.]+ / [\d.]+ +[+-][\d.]+ \[[+-][\d.]+, [+-][\d.]+\] \(n=3\)\n", local.stdout), local.stdout
    alone = run_cli("models", "--local-pooling", "16")
    assert alone.returncode == 2
    assert "--local-pooling shapes the re-scoring of the defaults, so it needs --check" in alone.stderr
    markdown_alone = run_cli("models", "--markdown")
    assert markdown_alone.returncode == 2
    assert "--markdown shapes the re-scoring of the defaults, so it needs --check" in markdown_alone.stderr

    baseline = run_cli("bench", "package", str(suite), "--task", "derain", "--method", "unet", "--out", str(tmp_path / "out"),
                       "--work", str(tmp_path / "work"))  # the baseline packaged: the other method is its peer
    assert baseline.returncode == 0, baseline.stderr
    card = json.loads((models / "derain.json").read_text())
    metrics = card["metrics"]["pairs"]
    assert card["summary"].startswith("unet (") and card["peer"]["method"] == "fast"
    assert metrics["peer_psnr"] == round(float(np.mean(runs["fast"]["scores"]["pairs"])), 3)
    assert card["training"]["command"].endswith(f"--task derain --method 'unet'")

    metrics["psnr"] += 1.0  # a card whose number the weights do not give
    (models / "derain.json").write_text(json.dumps(card))
    wrong = run_cli("models", "--check")
    assert wrong.returncode == 1 and re.search(r" NO\n", wrong.stdout), wrong.stdout


def test_a_task_without_real_pairs_is_packaged_and_checked_on_rendered_test_pairs(tmp_path, paired_root, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("MEMRESTORE_MODELS", str(models))
    shadows = {"clean": str(paired_root / "target"), "task": "deshadow"}
    suite = write_suite(tmp_path, paired_root, train=[{"synth": shadows}],
                        recipe=["data.train.patch_size=32", "data.train.batch_size=2", "data.train.mask_dir=mask",
                                "data.train.mask_focus=0.5"],  # crops centred on the rendered shadows' masks
                        tests={"shadows": {"synth": {**shadows, "seed": 1}, "convention": "rgb"}},
                        methods={"unet": {"set": TINY_UNET}, "fast": {"set": TINY_FAST, "steps": 3}})  # a replayed run's own steps
    done = run_cli("bench", "package", str(suite), "--task", "deshadow", "--out", str(tmp_path / "out"),
                   "--work", str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    card = json.loads((models / "deshadow.json").read_text())
    assert card["metrics"]["shadows"]["pairs"] == 3 and card["tests"]["shadows"]["synth"]["seed"] == 1
    assert (card["training"]["steps"], card["training"]["budget"], card["peer"]["budget"]) == (3, "3 steps", "4 steps")
    assert card["peer"]["model"] == "unet, same recipe, data and seed"
    assert "(budget 3 steps, the peer's 4 steps)." in (models / "deshadow.md").read_text()
    assert card["limits"][0].startswith("Scored on synthetic pairs only (shadows: synthetic deshadow (preset default, 1 rendering)")
    rendered = sorted((tmp_path / "work").glob("synth-deshadow-default-*"))
    assert len(rendered) == 2  # the training renderings (seed 0) and the test renderings (seed 1) apart
    training = next((tmp_path / "work").glob("train-data-*"))
    assert len(list((training / "mask").iterdir())) == len(list((training / "input").iterdir())) == 3
    checked = run_cli("models", "--check", cwd=tmp_path)  # the test set rendered again from the card, elsewhere
    assert checked.returncode == 0, checked.stderr
    assert checked_row(checked.stdout, "deshadow", "shadows (3, rgb)", "unet"), checked.stdout


def test_package_refuses_a_missing_task_or_a_method_it_cannot_package_before_training(tmp_path, paired_root, monkeypatch):
    monkeypatch.setenv("MEMRESTORE_MODELS", str(tmp_path / "models"))
    suite = write_suite(tmp_path, paired_root)
    for extra, message in (([], "bench package needs --task"),
                           (["--task", "derain", "--method", "nope"], "'nope' is not a trained method of the suite (fast, unet)")):
        done = run_cli("bench", "package", str(suite), *extra, "--work", str(tmp_path / "work"))
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    no_peer = write_suite(tmp_path, paired_root, baseline=None)
    done = run_cli("bench", "package", str(no_peer), "--task", "derain", "--work", str(tmp_path / "work"))
    assert done.returncode == 2 and "packaging needs a baseline" in done.stderr
    assert not (tmp_path / "work").exists() and not (tmp_path / "models").exists()


def test_card_limits_name_a_one_photo_test_set_a_small_gain_and_a_loss_to_the_peer():
    metrics = {"one photo": {"pairs": 1, "psnr": 25.0, "input_psnr": 24.8, "peer_psnr": 25.3},
               "many": {"pairs": 30, "psnr": 22.0, "input_psnr": 12.0, "peer_psnr": 21.0}}
    assert shortfalls(metrics) == ["Scored on 1 pair of one photo only: indicative, not an average.",
                                   "Gains only 0.20 dB over the input on one photo.",
                                   "Below its peer on one photo by 0.30 dB at this budget."]
    assert shortfalls({"many": metrics["many"]}) == []
