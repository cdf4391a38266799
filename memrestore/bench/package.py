"""`memrestore bench package SUITE.yaml --task TASK`: a suite's trained model becomes the packaged
default of a task (``memrestore restore --task``, ``memrestore.load``), with its model card.

The suite is the recipe: its ``baseline`` is the peer (NAFNet-w16) and the packaged method
(``--method``, else the suite's first other method) trained under the same budget, on the same data,
beside it; ``--method`` naming the baseline packages it, with that first other method as its peer (the
derain default, where NAFNet-w16 scored best). Missing runs are trained as ``bench quality`` would
(finished ones are reused), the default's final weights of the suite's first seed are stored as fp16
safetensors in the models folder (``memrestore/pretrained`` or ``MEMRESTORE_MODELS``, so a lab can
package its own), and the card (``TASK.json`` + ``TASK.md``) records the architecture, data, recipe, commands, steps and
time, and the metrics of the stored fp16 weights on the suite's test sets beside the input's and the
peer's, with the test sets themselves, so ``score_card`` can check the numbers again.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..api import load_model
from ..checkpoint import save_checkpoint
from ..config import from_dict
from ..data.paired_dataset import PairedImageDataset
from ..engine.evaluate import per_image_scores
from ..errors import ConfigError
from ..inference import InferenceOptions
from ..io.atomic import atomic_write_text
from ..models.complexity import count_macs, count_parameters
from ..pretrained import models_folder
from .quality import named_pairs, run_suite
from .report import interval
from .suite import Source, Suite, TestSet

CLEAR_GAIN_DB = 0.5  # a gain over the input below this is named in the card's limits
FEW_PAIRS = 3  # a test set with fewer pairs is named in the card's limits: its mean is one or two photos
TOLERANCE_DB = 0.02  # fp16 storage is exact: a larger gap on re-scoring means the weights or the code changed


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1: "1 pair", "2 renderings"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def describe(source: Source | TestSet) -> str:
    """A training source (or a synthetic test set) in words, for the card."""
    if source.synth is not None:
        s = source.synth
        return (f"synthetic {s.task} (preset {s.preset or 'default'}, {counted(s.renderings, 'rendering')}) "
                f"on the clean photos of {s.clean}")
    text = f"real pairs of {source.root}" + (f" matching {source.include}" if source.include != "*" else "")
    return text + (f", region {source.crop}" if source.crop else "") + (f", listed {source.repeat} times" if source.repeat > 1 else "")


def mean_of(scores: list[dict[str, float]]) -> dict[str, float]:
    """Pair count and mean PSNR/SSIM of per-image scores, rounded as cards store them."""
    return {"pairs": len(scores), **{key: round(float(np.mean([s[key] for s in scores])), 3) for key in ("psnr", "ssim")}}


def test_pairs(test: TestSet, work: Path) -> PairedImageDataset:
    """A test set's pairs as a dataset (rendered or cropped under ``work`` where the set asks)."""
    return PairedImageDataset(named_pairs(test, work))


def mean_scores(model: torch.nn.Module, test: TestSet, work: Path) -> dict[str, float]:
    """Mean PSNR/SSIM of the model's restorations over a test set's pairs."""
    return mean_of(per_image_scores(model, test_pairs(test, work), test.convention))


def chosen_methods(suite: Suite, method: str | None, where: str) -> tuple[str, str]:
    """(packaged method, peer). By default the method is the suite's first trained method besides the
    baseline and the peer is the baseline; ``method`` may name the baseline itself (when it scored
    best), and then the peer is that first other method, so a card always compares two models trained
    side by side."""
    if suite.baseline is None:
        raise ConfigError(f"{where}: packaging needs a baseline (the peer the card compares with)")
    others = [m for m, spec in suite.methods.items() if m != suite.baseline and spec.train]
    if not others:
        raise ConfigError(f"{where}: no trained method besides the baseline {suite.baseline!r} to compare with")
    if method is not None and method not in (*others, suite.baseline):
        raise ConfigError(f"{where}: --method {method!r} is not a trained method of the suite "
                          f"({', '.join([*others, suite.baseline])})")
    if method == suite.baseline:
        return method, others[0]
    return method or others[0], suite.baseline


def package(suite: Suite, suite_path: str, task: str, out: Path, work: Path, method: str | None = None,
            limits: list[str] | None = None) -> dict[str, Any]:
    """Train what is missing, store the method's first-seed weights as the task's default and write its
    card; returns the card. ``limits``: known limits in words, before the ones read from the metrics."""
    name, peer = chosen_methods(suite, method, suite_path)  # a wrong --method stops before any training
    command = f"memrestore bench quality {suite_path}"
    done = run_suite(suite, out, work, command)
    runs = done["runs"]
    seed = suite.seeds[0]
    default, peer_run = (next(r for r in runs if r["method"] == m and r["seed"] == seed) for m in (name, peer))
    folder = models_folder()
    trained, config, _ = load_model(default["checkpoint"])
    checkpoint = save_checkpoint(folder / f"{task}.safetensors", trained.to(torch.float16), config,
                                 task=task, steps=default["steps"], train_seconds=default["train_seconds"])
    model = load_model(checkpoint)[0]  # the stored fp16 weights are what the card scores
    metrics = {}
    for test_name, test in suite.tests.items():
        before, after = mean_of(done["input_scores"][test_name]), mean_scores(model, test, work)
        metrics[test_name] = {"convention": test.convention, "pairs": after["pairs"], "psnr": after["psnr"],
                              "ssim": after["ssim"], "input_psnr": before["psnr"], "input_ssim": before["ssim"],
                              "peer_psnr": round(float(np.mean(peer_run["scores"][test_name])), 3)}
    params, spec = count_parameters(model), suite.methods[name]
    minutes = round(default["train_seconds"] / 60, 1)
    threads = default.get("threads") or torch.get_num_threads()
    budget, peer_budget = suite.budget_words(name), suite.budget_words(peer)
    package_command = f"memrestore bench package {suite_path} --task {task}" + (f" --method '{name}'" if method else "")
    card = {
        "task": task,
        "summary": f"{name} ({params / 1e6:.2f} M params), {minutes:.0f} CPU-min",
        "architecture": {"model": config.to_dict()["model"], "parameters": params,
                         "gmacs_256x256": round(count_macs(model) / 1e9, 3)},
        "training": {"data": "; ".join(describe(s) for s in suite.sources(name)), "seed": seed,
                     "recipe": [*([f"recipe {spec.recipe}"] if spec.recipe else []), *suite.recipe, *spec.set],
                     "steps": default["steps"], "train_minutes": minutes, "budget": budget,
                     "machine": f"{default.get('machine', 'this machine')}, fp32, {counted(threads, 'thread')}",
                     "suite": suite_path, "command": f"{command} && {package_command}"},
        "peer": {"method": peer, "model": f"{peer}, same recipe, data and " + ("budget" if peer_budget == budget else "seed"),
                 "budget": peer_budget, "steps": peer_run["steps"], "train_minutes": round(peer_run["train_seconds"] / 60, 1)},
        "metrics": metrics,
        "tests": {test_name: dataclasses.asdict(test) for test_name, test in suite.tests.items()},
        "limits": [*(limits or []), *synthetic_only(suite), *shortfalls(metrics)],
        "reproduce": {"train_package_score": f"{command} && {package_command}", "check_card": "memrestore models --check"},
    }
    write_card(folder, task, card)
    return card


def synthetic_only(suite: Suite) -> list[str]:
    """The card's words for each test set that is rendered, not real (a task without real pairs here)."""
    return [f"Scored on synthetic pairs only ({name}: {describe(test)}): no real photos of this degradation measured."
            for name, test in suite.tests.items() if test.synth is not None]


def shortfalls(metrics: dict[str, dict[str, Any]]) -> list[str]:
    """The card's own words for where the model falls short: a test set too small to average over, a
    small gain over the input, or below the peer."""
    few = [f"Scored on {counted(m['pairs'], 'pair')} of {name} only: indicative, not an average."
           for name, m in metrics.items() if m["pairs"] < FEW_PAIRS]
    small = [f"Gains only {m['psnr'] - m['input_psnr']:.2f} dB over the input on {name}." if m["psnr"] >= m["input_psnr"]
             else f"Lowers the PSNR of the input by {m['input_psnr'] - m['psnr']:.2f} dB on {name}."
             for name, m in metrics.items() if m["psnr"] - m["input_psnr"] < CLEAR_GAIN_DB]
    behind = [f"Below its peer on {name} by {m['peer_psnr'] - m['psnr']:.2f} dB at this budget."
              for name, m in metrics.items() if m["psnr"] < m["peer_psnr"]]
    return few + small + behind


def write_card(folder: Path, task: str, card: dict[str, Any]) -> None:
    """``TASK.json`` (the card as data) and ``TASK.md`` (the same for people) in ``folder``."""
    atomic_write_text(folder / f"{task}.json", json.dumps(card, indent=2) + "\n")
    rows = [f"| {name} ({counted(m['pairs'], 'pair')}, {m['convention']}) | {m['input_psnr']:.2f} / {m['input_ssim']:.3f} | "
            f"{m['psnr']:.2f} / {m['ssim']:.3f} | {m['peer_psnr']:.2f} |" for name, m in card["metrics"].items()]
    training = card["training"]
    budget, peer_budget = training["budget"], card["peer"]["budget"]
    text = "\n".join([
        f"# memrestore default model: {task}", "", card["summary"] + ".", "",
        "## Architecture", "", "```json", json.dumps(card["architecture"], indent=2), "```", "",
        "## Training", "", f"- Data: {training['data']}.",
        f"- Recipe: {', '.join(training['recipe'])}; seed {training['seed']}.",
        f"- {training['steps']} steps in {training['train_minutes']} min on {training['machine']} "
        f"(budget {budget}, " + ("the same for the peer)." if peer_budget == budget else f"the peer's {peer_budget})."),
        f"- Command: `{training['command']}`", "",
        "## Metrics (packaged fp16 weights; test pairs never trained on)", "",
        "| test set | input PSNR / SSIM | this model PSNR / SSIM | peer PSNR |", "| --- | --- | --- | --- |",
        *rows, "", f"Peer: {card['peer']['model']}; {card['peer']['steps']} steps in {card['peer']['train_minutes']} min.",
        f"Reproduce the numbers from the packaged weights: `{card['reproduce']['check_card']}`.", "",
        "## Known limits", "", *([f"- {line}" for line in card["limits"]] or ["- None measured on these test sets."]), "",
    ])
    atomic_write_text(folder / f"{task}.md", text)


def score_card(checkpoint: Path, card: dict[str, Any], work: Path,
               options: InferenceOptions | None = None) -> list[dict[str, Any]]:
    """Re-score a packaged model on the test sets its card records: one row per set, with the card's
    PSNR and whether the new one reproduces it (within ``TOLERANCE_DB``). With ``options`` (e.g. local
    pooling), each row also scores the model restoring with them: their mean (``options_psnr``,
    ``options_ssim``) and the per-image paired difference to the plain restoration with its 95 %
    interval (``options_difference``)."""
    model = load_model(checkpoint)[0]
    rows = []
    for name, spec in card["tests"].items():
        test = from_dict(TestSet, spec, f"card test set {name}")
        dataset = test_pairs(test, work)
        plain = per_image_scores(model, dataset, test.convention)
        measured, m = mean_of(plain), card["metrics"][name]
        row = {"test_set": name, "pairs": measured["pairs"], "convention": spec["convention"],
               "input_psnr": m["input_psnr"], "psnr": measured["psnr"], "ssim": measured["ssim"],
               "peer_psnr": m["peer_psnr"], "card_psnr": m["psnr"],
               "reproduced": abs(measured["psnr"] - m["psnr"]) <= TOLERANCE_DB}
        if options is not None:
            other = per_image_scores(model, dataset, test.convention, options=options)
            mean = mean_of(other)
            row.update(options_psnr=mean["psnr"], options_ssim=mean["ssim"],
                       options_difference=interval([o["psnr"] - p["psnr"] for o, p in zip(other, plain)]))
        rows.append(row)
    return rows
