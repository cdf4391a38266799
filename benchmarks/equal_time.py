"""The deshadow default's training: models compared at an equal wall-clock training budget on test
pairs they never saw (the one comparison of this kind not made by a suite; every other one is a
``memrestore bench quality`` suite: ``benchmarks/suites/equal_time_derain.yaml``,
``equal_time_dehaze.yaml`` and the ``default_TASK.yaml`` suites).

    .venv/bin/python -m benchmarks.equal_time --task deshadow --minutes 12 [--seeds 0] [--models ...]

``benchmarks.package_default --task deshadow`` trains the packaged deshadow default through this
module; it goes when a deshadow suite beats that default (``benchmarks/suites/default_deshadow*.yaml``
and ``deshadow_stability.yaml``). Every model trains through ``memrestore train``'s Trainer with one
recipe (batch 4 x 96x96 crops, L1, AdamW lr 1e-3, 2 % warm-up then cosine to 1e-6) for the same
training time: a short calibration run measures the model's steps/s alone on the machine, and the run
is given that many steps for --minutes (validation time excluded). Validation every 1/8 of the run
gives the PSNR-versus-time curve. No real shadow pairs exist here, so synthetic shadows on CBSD68 (2
renderings) train and synthetic shadows on Kodak24 (photos never trained on) score, RGB.

Results: mean +- std over seeds, and each model's paired difference to the reference models (per
test image, same images; and per seed when there are several) with a 95 % t-interval. Finished runs
are kept in the JSON, so an interrupted comparison resumes. Writes equal_time_TASK.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import numpy as np

from benchmarks.report import SHARED, write_report
from memrestore.bench.quality import steps_per_second
from memrestore.bench.report import CpuShare, difference_rows, machine, plot_curves
from memrestore.bench.suite import slug

from memrestore.recipes import load_config
from memrestore.data.layouts import guess_layout
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.data.synth import synthesize_pairs
from memrestore.engine.trainer import Trainer
from memrestore.engine.evaluate import per_image_scores
from memrestore.metrics import psnr_ssim
from memrestore.tensors import chw_to_hwc

COMMAND = ".venv/bin/python -m benchmarks.equal_time"
MODELS = {
    "NAFNet-w16": ["model.name=nafnet", "model.width=16", "model.enc_blk_nums=[1, 1, 1, 8]"],
    "FastUNet + global context + hierarchical memory": ["model.name=fastunet", "model.global_context=true",
                                                         "model.memories={bottleneck: {kind: hierarchical}}"],
}
REFERENCES = {  # model: the models its paired differences are taken against
    "FastUNet + global context + hierarchical memory": ["NAFNet-w16"],
}
TASKS = ("deshadow",)
RECIPE = ["data.train.patch_size=96", "data.train.batch_size=4", "train.losses=[{name: l1}]",
          "train.optimizer.name=adamw", "train.optimizer.lr=1e-3", "train.scheduler.name=cosine",
          "train.scheduler.min_lr=1e-6", "train.log_every=50", "train.samples=0"]


def prepare(task: str, work: Path) -> tuple[Path, Path, dict[str, Path], str]:
    """Training folder, curve (validation) set, final test sets, metric convention."""
    return (training_folder(task, work), *test_sets(task, work))


def training_folder(task: str, work: Path) -> Path:
    """The task's synthetic training pairs (shadows on CBSD68, 2 renderings), rendered on first use."""
    synthesize_pairs(SHARED / "clean" / "CBSD68", work / "data" / "train", task, None, 2, 0)
    return work / "data" / "train"


def test_sets(task: str, work: Path) -> tuple[Path, dict[str, Path], str]:
    """Curve (validation) set, final test sets and metric convention: no real shadow pairs here, so
    held-out synthetic shadows on photos never trained on (Kodak24, one rendering, seed 1)."""
    test = work / "data" / "kodak-test"
    synthesize_pairs(SHARED / "clean" / "Kodak24", test, task, None, 1, 1)
    return test, {"Kodak24-synthetic": test}, "rgb"


def test_set(root: Path) -> PairedImageDataset:
    """A test set in memrestore's paired layout."""
    return PairedImageDataset.from_folder(root, layout="auto")


def per_image_psnr(model, root: Path, convention: str) -> list[float]:
    return [s["psnr"] for s in per_image_scores(model, test_set(root), convention)]


def calibrate(overrides: list[str], work: Path) -> float:
    """Steps per second of this model and recipe (``memrestore.bench.quality.steps_per_second``)."""
    return steps_per_second(load_config(None, [*overrides, f"output_dir={work}", "name=calibration"]))


def run_one(model: str, seed: int, minutes: float, ema: float, train_root: Path, curve_root: Path,
            tests: dict[str, Path], convention: str, work: Path) -> dict:
    """Calibrate, train for ``minutes`` and score one model."""
    base = [*MODELS[model], *RECIPE, f"data.train.root={train_root}", f"seed={seed}", f"train.ema={ema}"]
    with CpuShare() as share:  # calibration and training: both must have the cores to themselves
        speed = calibrate(base, work)
        iterations = max(100, int(minutes * 60 * speed))
        every = max(1, iterations // 8)
        config = load_config(None, [*base, f"output_dir={work}", f"name={run_folder(work, model, seed).name}",
                                    f"train.iterations={iterations}", f"train.val_every={every}",
                                    f"train.checkpoint_every={every}", f"train.scheduler.warmup_iters={iterations // 50}",
                                    f"data.val={{type: {guess_layout(curve_root)}, root: {curve_root}}}",
                                    f"eval.convention={convention}"])
        trainer = Trainer(config, progress=True, overwrite=True)
        trainer.fit()
    result = {"model": model, "seed": seed, "ema": ema, "steps": iterations, "calibrated_steps_per_s": round(speed, 3),
              "train_seconds": trainer.summary["seconds"], "machine": machine(), "cpu_share": round(share.value, 2),
              "curve": trainer.psnr_curve()}
    scored = trainer.final_weights.module
    result["scores"] = {name: per_image_psnr(scored, root, convention) for name, root in tests.items()}
    if trainer.ema is not None:  # the raw weights too, to show what the average adds
        result["scores_raw"] = {name: per_image_psnr(trainer.model, root, convention) for name, root in tests.items()}
    return result


def report(results: dict, task: str, minutes: float, ema: float, seeds: list[int], tests: dict[str, Path],
           convention: str, out: Path, chosen: list[str] | None = None) -> None:
    """Markdown table and curves of the runs at this budget (the JSON keeps every budget's runs)."""
    runs = [r for r in results["runs"] if r["minutes"] == minutes and r["seed"] in seeds and r.get("ema", 0.0) == ema
            and r["model"] in (chosen or MODELS)]
    models = [m for m in MODELS if any(r["model"] == m for r in runs)]
    named = "" if chosen is None or list(chosen) == list(MODELS) else " --models " + " ".join(map(shlex.quote, chosen))
    inputs = {name: per_image_input(root, convention) for name, root in tests.items()}
    lines = [f"`{COMMAND} --task {task} --minutes {minutes:g} --ema {ema:g} --seeds {' '.join(map(str, seeds))}{named}` "
             f"(equal training time per run, validation excluded; recipe: batch 4 x 96x96, L1, AdamW 1e-3, cosine"
             f"{f', scored with the EMA weights (decay {ema:g})' if ema else ''}; convention {convention})", "",
             "| model | seeds | steps | train min | " + " | ".join(f"{n} PSNR" for n in tests) + " |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in tests) + " |",
             f"| input | - | - | - | " + " | ".join(f"{np.mean(v):.2f}" for v in inputs.values()) + " |"]
    for model in models:
        mine = [r for r in runs if r["model"] == model]
        cells = []
        for name in tests:
            means = np.array([np.mean(r["scores"][name]) for r in mine])
            cells.append(f"{means.mean():.2f} ± {means.std(ddof=1) if len(means) > 1 else 0.0:.2f}")
        lines.append(f"| {model} | {len(mine)} | {int(np.mean([r['steps'] for r in mine]))} | "
                     f"{np.mean([r['train_seconds'] for r in mine]) / 60:.1f} | " + " | ".join(cells) + " |")
    lines += ["", "Per run: the steps each model made in the budget on the machine that ran it; CPU share: the "
              "process's CPU time over wall time x threads (near 1: it had the cores to itself; '-': not "
              "recorded then).", "",
              "| seed | model | steps | train min | " + " | ".join(f"{n} PSNR" for n in tests) + " | CPU share | machine |",
              "| --- | --- | --- | --- | " + " | ".join("---" for _ in tests) + " | --- | --- |"]
    for run in sorted(runs, key=lambda r: (r["seed"], models.index(r["model"]))):
        lines.append(f"| {run['seed']} | {run['model']} | {run['steps']} | {run['train_seconds'] / 60:.1f} | "
                     + " | ".join(f"{np.mean(run['scores'][n]):.2f}" for n in tests)
                     + f" | {run['cpu_share'] if 'cpu_share' in run else '-'}"
                     + f" | {run.get('machine', 'not recorded (before machines were recorded)')} |")
    lines += ["", "Paired differences (dB, mean [95 % interval]): per test image, seeds pooled; and per seed.", "",
              "| comparison | test set | per image | per seed |", "| --- | --- | --- | --- |"]
    lines += [row for model, references in REFERENCES.items() for reference in references
              for row in difference_rows(runs, tests, model, reference, f"{model} - {reference}", key="model")]
    write_report(out, f"equal_time_{task}", results, lines)
    plot_curves(runs, models, out / f"equal_time_{task}.png", f"{task}: validation PSNR over training time", key="model")
    print("\n".join(lines))


def per_image_input(root: Path, convention: str) -> list[float]:
    return [s["psnr"] for s in input_scores(root, convention)]


def input_scores(root: Path, convention: str) -> list[dict[str, float]]:
    """PSNR/SSIM of each degraded input against its target (what doing nothing scores)."""
    dataset = test_set(root)
    return [psnr_ssim(chw_to_hwc(dataset[i]["input"]), chw_to_hwc(dataset[i]["target"]), convention)
            for i in range(len(dataset))]


def ensure_runs(task: str, minutes: float, seeds: list[int], models: list[str], ema: float, out: Path,
                work: Path) -> tuple[dict, dict[str, Path], str]:
    """Train every (seed, model) run missing from ``equal_time_TASK.json``; returns the results with the
    test sets and convention. Each finished run is written at once, so an interrupted call resumes."""
    train_root, curve_root, tests, convention = prepare(task, work)
    results_path = out / f"equal_time_{task}.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {"command": COMMAND, "runs": []}
    for seed in seeds:  # seed-major: a partial comparison still covers every model
        for model in models:
            if find_run(results, model, seed, minutes, ema) is not None:
                continue
            run = run_one(model, seed, minutes, ema, train_root, curve_root, tests, convention, work)
            results["runs"].append({**run, "minutes": minutes})
            write_report(out, f"equal_time_{task}", results, ["(in progress)"])  # never lose a finished run
            print({k: v for k, v in run.items() if k not in ("curve", "scores")}, flush=True)
    return results, tests, convention


def find_run(results: dict, model: str, seed: int, minutes: float, ema: float = 0.0) -> dict | None:
    return next((r for r in results["runs"] if r["model"] == model and r["seed"] == seed and r["minutes"] == minutes
                 and r.get("ema", 0.0) == ema), None)


def run_folder(work: Path, model: str, seed: int) -> Path:
    """Where ``run_one`` trained ``model`` with ``seed`` (its final weights are ``model.safetensors``)."""
    return work / (slug(model).strip("_") + f"-s{seed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="deshadow", choices=TASKS)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--ema", type=float, default=0.0, help="EMA decay of the scored weights (0: raw weights)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default=None, help="run folder (default runs/equal-time-TASK)")
    args = parser.parse_args()
    out = Path(args.out)
    results, tests, convention = ensure_runs(args.task, args.minutes, args.seeds, args.models, args.ema, out,
                                             work_folder(args.task, args.work))
    report(results, args.task, args.minutes, args.ema, args.seeds, tests, convention, out, args.models)


def work_folder(task: str, work: str | None = None) -> Path:
    return Path(work or f"runs/equal-time-{task}")


if __name__ == "__main__":
    main()
