"""`memrestore bench quality SUITE.yaml`: train every (method, seed) of a suite under one budget, score
it on real test pairs, and report mean ± std, paired differences to the baseline with 95 % intervals,
PSNR-versus-training-time curves and a visual grid with zoomed crops.

Runs live in ``WORK/<method>-s<seed>-<key>`` where ``key`` hashes what the run depends on
(``suite.run_key``): re-running a suite trains only runs whose key is new, an interrupted run resumes
from its last checkpoint (``Trainer(resume=True)``), and a finished run's scores are kept in its
``bench.json``. An equal-time budget is turned into steps by a calibration run (``steps_per_second``: steps
timed after a warm-up with every training image decoded), so each method gets the same training
time with validation excluded.
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..checkpoint import save_checkpoint
from ..config import Config
from ..data.layouts import read_layout
from ..data.paired_dataset import PairedImageDataset
from ..data.pairing import Pair
from ..data.synth import synthesize_pairs
from ..engine.evaluate import per_image_scores
from ..engine.trainer import RESUME_FILE, Trainer
from ..io import ensure_dir, read_image, to_float_rgb
from ..io.atomic import atomic_write_text
from ..metrics import psnr_ssim
from ..models import model_from_config
from .report import CpuShare, machine, write_quality_report
from .suite import Suite, method_config, run_key


def selected_pairs(root: str | Path, layout: str, include: str) -> list[Pair]:
    pairs = read_layout(layout, str(root))
    return [p for p in pairs if fnmatch.fnmatch(p.input.name, include)]


def prepare_training_folder(suite: Suite, work: Path) -> Path:
    """One paired folder (``input/``, ``target/``) of links to every training source's pairs."""
    folder = work / "train-data"
    for index, source in enumerate(suite.train):
        if source.synth is not None:
            s = source.synth
            root = work / f"synth-{index}-{s.task}-{s.preset or 'default'}"
            synthesize_pairs(s.clean, root, s.task, s.preset, s.renderings, s.seed)
            pairs = read_layout("paired", str(root))
        else:
            pairs = selected_pairs(source.root, source.layout, source.include)
        for pair in pairs:
            for kind, path in (("input", pair.input), ("target", pair.target)):
                link = folder / kind / f"{index}-{pair.name}{path.suffix}"
                if not link.exists():
                    ensure_dir(link.parent)
                    os.symlink(path.resolve(), link)
    return folder


def steps_per_second(config: Config, warmup: int = 30, steps: int = 60, repeats: int = 3) -> float:
    """Training steps per second of ``config`` in a throw-away run: after ``warmup`` steps and with
    every training image decoded (as during almost all of a long run), each of ``repeats`` rounds times
    a short continuation and one ``steps`` longer, and the rate is that of the difference, so what each
    ``fit`` call costs besides its steps (starting the loader, writing the checkpoint) cancels; the
    median of the rounds. (Whole 30-step calls read fast models 5-30 % slow: their 20-minute budgets in
    ``benchmarks/results/equal_time_*.json`` ran 15-19.5 minutes. The differential reading ran them
    22-23 minutes on a machine that then slowed: no short timing predicts a noisy machine's sustained
    speed, so runs record the minutes they actually trained.)"""
    config.train.iterations, config.train.checkpoint_every, config.data.val = warmup, 0, None
    trainer = Trainer(config, progress=False, overwrite=True)
    trainer.fit()
    trainer.train_set.preload()

    def seconds(more: int) -> float:
        trainer.config.train.iterations = trainer.step + more
        start = time.perf_counter()
        trainer.fit()
        return time.perf_counter() - start

    short = max(1, steps // 6)
    rates = []
    for _ in range(repeats):
        brief, full = seconds(short), seconds(short + steps)
        rates.append(steps / (full - brief) if full > brief else (short + steps) / full)  # noise: whole call
    return float(np.median(rates))


def calibrate(suite: Suite, method: str, train_root: Path, seed: int, work: Path) -> float:
    """Training steps per second of a method (``steps_per_second`` in ``WORK/calibration``)."""
    return steps_per_second(method_config(suite, method, train_root, seed, [f"output_dir={work}", "name=calibration"]))


def score(model: Any, pairs: list[Pair], convention: str) -> list[float]:
    """PSNR of every test pair, in the suite's order."""
    return [s["psnr"] for s in per_image_scores(model, PairedImageDataset(pairs), convention)]


def run_folder(suite: Suite, method: str, seed: int, work: Path) -> Path:
    """``WORK/<method>-s<seed>-<key>``: a changed method gets a new folder (``suite.run_key``)."""
    slug = "".join(c if c.isalnum() else "_" for c in method).strip("_")
    return work / f"{slug}-s{seed}-{run_key(suite, method, seed)}"


def train_run(suite: Suite, method: str, seed: int, train_root: Path, run_dir: Path, work: Path) -> tuple[Any, dict]:
    """Train (or resume) one run under the suite's budget: the model and what to record of the run."""
    with CpuShare() as share:  # calibration and training, as the record says whether they had the cores
        state = json.loads((run_dir / "budget.json").read_text()) if (run_dir / "budget.json").is_file() else None
        if state is None:
            speed = calibrate(suite, method, train_root, seed, work) if suite.budget.minutes is not None else None
            steps = max(10, int(suite.budget.minutes * 60 * speed)) if speed else int(suite.budget.steps)
            state = {"steps": steps, "calibrated_steps_per_s": speed}
            ensure_dir(run_dir)
            atomic_write_text(run_dir / "budget.json", json.dumps(state))
        steps, every = state["steps"], max(1, state["steps"] // suite.checkpoints)
        curve_set = suite.tests[suite.curve or next(iter(suite.tests))]
        overrides = [f"output_dir={work}", f"name={run_dir.name}", f"train.iterations={steps}",
                     f"train.val_every={every}", f"train.checkpoint_every={every}",
                     f"data.val={{type: {curve_set.layout}, root: {curve_set.root}}}",
                     f"eval.convention={curve_set.convention}"]
        if suite.budget.minutes is not None:  # steps found by calibration: a 2 % warm-up of whatever they are
            overrides.append(f"train.scheduler.warmup_iters={steps // 50}")
        config = method_config(suite, method, train_root, seed, overrides)
        resume = (run_dir / RESUME_FILE).is_file()
        trainer = Trainer(config, progress=True, resume=resume, overwrite=not resume)
        trainer.fit()
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    curve = [[r["train_seconds"], r["val_psnr"]] for r in records if "val_psnr" in r and "train_seconds" in r]
    return trainer.model, {**state, "train_seconds": trainer.summary["seconds"], "machine": machine(),
                           "cpu_share": round(share.value, 2), "curve": curve}


def run_one(suite: Suite, method: str, seed: int, train_root: Path, tests: dict[str, list[Pair]], work: Path) -> dict:
    """Train (or resume) one run, or build a learning-free method as it is, and score it; the result
    is kept in the run folder's ``bench.json``."""
    run_dir = run_folder(suite, method, seed, work)
    done = run_dir / "bench.json"
    if done.is_file():
        return json.loads(done.read_text())
    if suite.methods[method].train:
        model, record = train_run(suite, method, seed, train_root, run_dir, work)
    else:  # a learning-free baseline: scored as built
        config = method_config(suite, method, train_root, seed)
        model = model_from_config(config.model).eval()
        ensure_dir(run_dir)
        save_checkpoint(run_dir / "model", model, config, step=0)
        record = {"steps": 0, "calibrated_steps_per_s": None, "train_seconds": 0.0, "curve": []}
    result = {"method": method, "seed": seed, "key": run_key(suite, method, seed), **record,
              "scores": {name: score(model, pairs, suite.tests[name].convention) for name, pairs in tests.items()},
              "checkpoint": str(run_dir / "model.safetensors")}
    atomic_write_text(done, json.dumps(result))
    return result


def run_suite(suite: Suite, out: Path, work: Path, command: str, report_only: bool = False) -> dict:
    """Every (seed, method) of the suite, seed-major so a partial suite still compares every method;
    then the report. Returns the results."""
    tests = {name: selected_pairs(t.root, t.layout, t.include) for name, t in suite.tests.items()}
    results: list[dict] = []
    if not report_only:
        train_root = prepare_training_folder(suite, work)
        jobs = [(seed, method) for seed in suite.seeds for method in suite.methods]
        for seed, method in tqdm(jobs, desc=f"suite {suite.name}", unit="run"):
            results.append(run_one(suite, method, seed, train_root, tests, work))
    else:
        for seed in suite.seeds:
            for method in suite.methods:
                done = run_folder(suite, method, seed, work) / "bench.json"
                if done.is_file():
                    results.append(json.loads(done.read_text()))
    inputs = {name: [psnr_ssim(to_float_rgb(read_image(p.input)), to_float_rgb(read_image(p.target)),
                               suite.tests[name].convention)["psnr"] for p in pairs] for name, pairs in tests.items()}
    write_quality_report(suite, results, inputs, tests, out, command)
    return {"runs": results, "inputs": inputs}

