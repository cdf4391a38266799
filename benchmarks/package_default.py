"""The packaged default trained before `memrestore bench package` existed (deshadow).

    .venv/bin/python -m benchmarks.package_default --task deshadow   # train if needed, package, score

New defaults are packaged from a suite (``memrestore bench package SUITE.yaml --task TASK``: the
default and its peer trained side by side under the suite's budget; ``memrestore.bench.package``).
``--task`` is the earlier way, kept while a default made by it ships (deshadow: its suites,
``benchmarks/suites/default_deshadow*.yaml``, ran and did not beat it): ``benchmarks.equal_time``'s
training (seed 0, the budget below), the fast memory network and its NAFNet-w16 peer one after the
other for the same CPU time, the default's final weights stored as fp16 with a card written by
``memrestore.bench.package.write_card``; its card records its test set as a suite's card does (the
held-out Kodak24 photos with synthetic shadows, rendered again from the card where needed), so
``memrestore models --check`` re-scores it with the others."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks import equal_time
from memrestore.api import load_model
from memrestore.checkpoint import save_checkpoint
from memrestore.engine.evaluate import evaluate_model
from memrestore.bench.package import shortfalls, write_card
from memrestore.bench.suite import Synthesis, TestSet
from memrestore.models.complexity import count_macs, count_parameters
from memrestore.pretrained import FOLDER

COMMAND = ".venv/bin/python -m benchmarks.package_default"
MEMORYNET_STYLE = "FastUNet + global context + hierarchical memory"
PEER = "NAFNet-w16"
# the one default this script still makes (no deshadow suite's models beat it)
MINUTES = {"deshadow": 12.0}
DATA = {"deshadow": "synthetic shadows (2 renderings) on the 64 CBSD68 photos; Kodak24 held out for testing"}
LIMITS = {"deshadow": "No real shadow pairs exist here: trained and scored on synthetic shadows only (Kodak24 held out)."}
# equal_time's test set in a suite's words (``equal_time.test_sets``: Kodak24, default preset, one rendering, seed 1)
TESTS = {"deshadow": {"Kodak24-synthetic": TestSet(synth=Synthesis(clean="../shared/data/clean/Kodak24", task="deshadow",
                                                                   seed=1), convention="rgb")}}


def rounded(scores: dict[str, float]) -> dict[str, float]:
    return {key: round(float(scores[key]), 3) for key in ("psnr", "ssim")}


def score_model(model, tests: dict[str, Path], convention: str) -> dict[str, dict[str, float]]:
    """Mean PSNR/SSIM of ``model`` on every test set (``engine.evaluate.evaluate_model``)."""
    return {name: rounded(evaluate_model(model, equal_time.test_set(root), convention)) for name, root in tests.items()}


def export_fp16(run: Path, destination: Path, **metadata) -> Path:
    """The run's final weights, stored in half precision (loading casts them back to the model's dtype)."""
    model, config, _ = load_model(run / "model.safetensors")
    return save_checkpoint(destination, model.to(torch.float16), config, **metadata)


def package(task: str, out: Path) -> dict:
    minutes = MINUTES[task]
    work = equal_time.work_folder(task)
    name = MEMORYNET_STYLE
    results, tests, convention = equal_time.ensure_runs(task, minutes, [0], [name, PEER], 0.0, out, work)
    default, peer = (equal_time.find_run(results, model, 0, minutes) for model in (name, PEER))
    # the checkpoint's JSON sidecar (TASK.json) is replaced by the card; its config stays in the header
    checkpoint = export_fp16(equal_time.run_folder(work, name, 0), FOLDER / f"{task}.safetensors",
                             task=task, steps=default["steps"], train_seconds=default["train_seconds"])
    model, config, _ = load_model(checkpoint)  # the packaged fp16 weights are what the card scores
    scores = score_model(model, tests, convention)
    metrics = {}
    for test, root in tests.items():
        inputs = equal_time.input_scores(root, convention)
        before = rounded({key: np.mean([s[key] for s in inputs]) for key in ("psnr", "ssim")})
        metrics[test] = {"convention": convention, "pairs": len(inputs),
                         "psnr": scores[test]["psnr"], "ssim": scores[test]["ssim"],
                         "input_psnr": before["psnr"], "input_ssim": before["ssim"],
                         "peer_psnr": round(float(np.mean(peer["scores"][test])), 3)}
    params = count_parameters(model)
    card = {
        "task": task,
        "summary": f"{name} ({params / 1e6:.2f} M params), {default['train_seconds'] / 60:.0f} CPU-min",
        "architecture": {"model": config.to_dict()["model"],
                         "parameters": params, "gmacs_256x256": round(count_macs(model) / 1e9, 3)},
        "training": {"data": DATA[task], "seed": 0,
                     "recipe": [*equal_time.MODELS[name], *equal_time.RECIPE],
                     "steps": default["steps"], "train_minutes": round(default["train_seconds"] / 60, 1),
                     "budget_minutes": minutes, "machine": "2 CPU cores, fp32, 2 threads",
                     "command": f"{COMMAND} --task {task}"},
        "peer": {"method": PEER, "model": f"{PEER} [1,1,1,8] (spandrel), same recipe, data and training time",
                 "steps": peer["steps"], "train_minutes": round(peer["train_seconds"] / 60, 1)},
        "metrics": metrics,
        "tests": {name: dataclasses.asdict(test) for name, test in TESTS[task].items()},
        "limits": [LIMITS[task], *shortfalls(metrics)],
        "reproduce": {"train_package_score": f"{COMMAND} --task {task}", "check_card": "memrestore models --check"},
    }
    write_card(FOLDER, task, card)
    return card


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=list(MINUTES), required=True,
                        help="train (if needed), package and score this default")
    parser.add_argument("--out", default="benchmarks/results", help="where the equal-time results are kept")
    args = parser.parse_args()
    package(args.task, Path(args.out))
    print((FOLDER / f"{args.task}.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
