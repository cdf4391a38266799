"""Shared harness for the script experiments left (see ``benchmarks/__init__``): a resumable grid of
(variant, seed) training runs on given training data, scored on a paired test set, and its summary
table / chart; ``RAIN12`` names ../shared/data/real/derain-Rain12 for ``mgid_memory_usage``. Every
variant trains the same number of steps on the same batches (same seed -> same data order). Finished
runs are appended atomically to a JSON file, so an interrupted experiment resumes where it stopped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from benchmarks.report import SHARED, write_report

from memrestore.bench.suite import slug
from memrestore.recipes import load_config
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.engine.evaluate import evaluate_model
from memrestore.engine.trainer import Trainer
from memrestore.io.atomic import atomic_path
from memrestore.metrics.folders import evaluate_folders, mean_row

RAIN12 = SHARED / "real" / "derain-Rain12"


def run_grid(results_path: Path, work: Path, variants: dict[str, tuple[str, list[str]]], seeds: list[int],
             steps: int, command: str, train_root: Path | None, test_root: Path,
             convention: str) -> tuple[dict, list[dict]]:
    """Train and test every (variant, seed) not already in ``results_path``; returns all results and
    this step count's runs. ``variants``: name -> (recipe, overrides). ``train_root``: the training
    data (None only when there is nothing to train); ``test_root`` (paired layout) and ``convention``:
    the test set and its metric."""
    results = json.loads(results_path.read_text()) if results_path.is_file() else {"command": command, "runs": []}
    done = {(r["variant"], r["seed"], r["steps"]) for r in results["runs"]}
    test_set = PairedImageDataset.from_folder(test_root)
    for seed in seeds:  # seed-major: a partial experiment still compares every variant
        for variant, (config_path, overrides) in variants.items():
            if (variant, seed, steps) in done:
                continue
            run_name = slug(variant).strip("_")
            config = load_config(config_path, [f"data.train.root={train_root}", f"output_dir={work}", f"name={run_name}-s{seed}",
                                               f"seed={seed}", f"train.iterations={steps}", *overrides])
            start = time.perf_counter()
            trainer = Trainer(config, progress=False, overwrite=True)
            trainer.fit()
            scores = evaluate_model(trainer.model, test_set, convention)
            run = {"variant": variant, "seed": seed, "steps": steps, "psnr": scores["psnr"], "ssim": scores["ssim"],
                   "train_seconds": trainer.summary["seconds"], "wall_seconds": round(time.perf_counter() - start, 1)}
            results["runs"].append(run)
            write_report(results_path.parent, results_path.stem, results, ["(in progress)"])  # never lose a finished run
            print(run, flush=True)
    return results, [r for r in results["runs"] if r["steps"] == steps]


def input_baseline(test_root: Path, convention: str) -> dict:
    """Mean PSNR/SSIM of the test set's degraded inputs against their targets."""
    return mean_row(evaluate_folders(test_root / "input", test_root / "target", convention))


def summary_lines(rows: list[dict], variants: list[str], reference_of: Callable[[str], str]) -> list[str]:
    """Markdown rows: mean +- sample std over seeds, and the difference to each variant's reference."""
    lines = ["| variant | seeds | PSNR (dB) | SSIM | vs reference (dB) | train s/run |", "| --- | --- | --- | --- | --- | --- |"]
    means = {}
    for variant in variants:
        runs = [r for r in rows if r["variant"] == variant]
        if not runs:
            continue
        p, s = np.array([r["psnr"] for r in runs]), np.array([r["ssim"] for r in runs])
        means[variant] = p.mean()
        spread = lambda a: a.std(ddof=1) if len(a) > 1 else 0.0
        reference = reference_of(variant)
        delta = f"{p.mean() - means[reference]:+.2f} (vs {reference})" if reference in means and reference != variant else "reference"
        lines.append(f"| {variant} | {len(runs)} | {p.mean():.2f} ± {spread(p):.2f} | {s.mean():.4f} ± {spread(s):.4f} | "
                     f"{delta} | {np.mean([r['train_seconds'] for r in runs]):.0f} |")
    return lines


def plot_runs(rows: list[dict], variants: list[str], path: Path, title: str,
              ylabel: str = "Rain12 PSNR (dB, Y MATLAB)") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [v for v in variants if any(r["variant"] == v for r in rows)]
    figure, axis = plt.subplots(figsize=(9, 4))
    for i, name in enumerate(names):
        values = [r["psnr"] for r in rows if r["variant"] == name]
        axis.scatter([i] * len(values), values, color="tab:blue")
        axis.hlines(np.mean(values), i - 0.25, i + 0.25, color="tab:red")
    axis.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    axis.set_ylabel(ylabel)
    axis.set_title(f"{title} (dots: seeds, bar: mean)")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
