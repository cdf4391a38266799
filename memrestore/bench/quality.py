"""`memrestore bench quality SUITE.yaml`: train every (method, seed) of a suite under one budget, score
it on real test pairs, and report mean ± std, paired differences to the baseline with 95 % intervals,
PSNR-versus-training-time curves and a visual grid with zoomed crops.

Runs live in ``WORK/<method>-s<seed>-<key>`` where ``key`` hashes what the run depends on
(``suite.run_key``): re-running a suite trains only runs whose key is new, an interrupted run resumes
from its last checkpoint (``Trainer(resume=True)``), and a finished run's scores are kept in its
``bench.json``. An equal-time budget is turned into steps by calibration runs, one per seed and the
median taken (``steps_per_second``: steps timed after a warm-up with every training image decoded),
so each method gets the same training time with validation excluded. A suite with ``jobs: N``
calibrates every budget first, alone on the machine with the threads each run will have, then trains
N runs at a time in separate processes.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..checkpoint import save_checkpoint
from ..config import Config
from ..data.layouts import selected_pairs
from ..data.paired_dataset import PairedImageDataset
from ..data.pairing import Pair
from ..data.region import crop as region_crop
from ..data.synth import synthesize_pairs
from ..data.timelapse_dataset import read_timelapse
from ..engine.evaluate import per_image_scores
from ..engine.trainer import RESUME_FILE, Trainer
from ..io import ensure_dir, read_image, to_float_rgb, write_image
from ..io.atomic import atomic_write_text
from ..metrics import psnr_ssim
from ..models import model_from_config
from .report import CpuShare, machine, write_quality_report
from .suite import Source, Suite, TestSet, digest, method_config, run_key, slug, source_identity


def examples_root(named: Source | TestSet, work: Path) -> Path:
    """Where a source's or test set's examples are: its ``root``, or for ``synth`` a folder under
    ``work`` named after its settings, rendered on first use."""
    if named.synth is None:
        return Path(named.root)
    s = named.synth
    root = work / f"synth-{s.task}-{Path(s.preset or 'default').stem}-{digest(source_identity(named))}"
    synthesize_pairs(s.clean, root, s.task, s.preset, s.renderings, s.seed, frames=s.frames)
    return root


def named_pairs(named: Source | TestSet, work: Path) -> list[Pair]:
    """The pairs a source or test set names (real, or rendered by ``synth``, with the masks its renderer
    writes: shadows, raindrops); with ``crop``, each pair cut to that region, written once under
    ``work`` (a paired folder named after the set and the region)."""
    root = examples_root(named, work)
    masks = {"mask_dir": "mask"} if named.synth is not None and (root / "mask").is_dir() else {}
    pairs = selected_pairs(named.layout, str(root), named.include, **masks)
    if named.crop is None:
        return pairs
    folder = work / f"crop-{digest([str(Path(named.root).resolve()), named.layout, named.include, named.crop])}"
    cropped = []
    for pair in pairs:
        made = Pair(pair.name, *(folder / kind / f"{pair.name}.png" for kind in ("input", "target")),
                    mask=folder / "mask" / f"{pair.name}.png" if pair.mask else None)
        for source, destination in zip((pair.input, pair.target, pair.mask), (made.input, made.target, made.mask)):
            if destination is not None and not destination.exists():
                write_image(destination, region_crop(read_image(source).pixels, named.crop))
        cropped.append(made)
    return cropped


def _link(target: Path, link: Path) -> None:
    """``link`` -> ``target``; a link already there is kept when it points to the same file (runs
    side by side make the same test folder at the same moment), and replaced when it points nowhere
    (a work folder moved since it was linked)."""
    if link.exists():
        return
    if link.is_symlink() and not os.path.exists(link):  # dangling: its target is gone
        link.unlink()
    ensure_dir(link.parent)
    try:
        os.symlink(target.resolve(), link)
    except FileExistsError:
        if link.resolve() != target.resolve():
            raise


def _source_links(source: Source, work: Path) -> list[list[tuple[Path, Path]]]:
    """For each of a source's pairs or scenes: its (target, link path relative to the training
    folder) links (``examples_root``: ``synth`` renders on first use)."""
    if source.scenes:
        root = examples_root(source, work)
        return [[(root / scene.name, Path(scene.name))]
                for scene in read_timelapse(str(root)) if fnmatch.fnmatch(scene.name, source.include)]
    return [_pair_links(pair) for pair in named_pairs(source, work)]


def _pair_links(pair: Pair) -> list[tuple[Path, Path]]:
    """A pair's (file, ``input/NAME``, ``target/NAME`` or ``mask/NAME`` link path) in a paired folder;
    a recipe reads the masks with ``data.train.mask_dir=mask`` (e.g. for ``mask_focus``)."""
    files = (("input", pair.input), ("target", pair.target), *((("mask", pair.mask),) if pair.mask else ()))
    return [(path, Path(kind) / f"{pair.name}{path.suffix}") for kind, path in files]


def training_folders(suite: Suite, work: Path) -> dict[str, Path]:
    """The training folder of every trained method with training sources: one per distinct list of
    sources, shared by the methods that train on it (``prepare_training_folder``)."""
    folders: dict[str, Path] = {}
    for method, spec in suite.methods.items():
        sources = suite.sources(method)
        if spec.train and sources:
            folders[method] = prepare_training_folder(sources, work / f"train-data-{digest([source_identity(s) for s in sources])}", work)
    return folders


def prepare_training_folder(sources: list[Source], folder: Path, work: Path) -> Path:
    """``folder`` of links to every source's examples: a paired folder (``input/``, ``target/``) or,
    for time-lapse sources, one link per scene folder; names carry the source's index (and the copy,
    for ``repeat``). Synthetic sources render under ``work``."""
    for index, source in enumerate(sources):
        for links in _source_links(source, work):
            for copy in range(source.repeat):
                prefix = f"{index}-" if copy == 0 else f"{index}.{copy}-"
                for target, relative in links:
                    _link(target, folder / relative.parent / f"{prefix}{relative.name}")
    return folder


def test_folder(suite: Suite, name: str, work: Path) -> tuple[str, Path]:
    """(layout, root) of test set ``name`` for validation during training: the set itself (as given, or
    as ``synth`` rendered it), or, when ``include`` or ``crop`` select part of it, a paired folder of
    links to just those pairs."""
    test = suite.tests[name]
    if test.include == "*" and test.crop is None:
        return test.layout, examples_root(test, work)
    folder = work / "tests" / slug(name)
    for pair in named_pairs(test, work):
        for path, relative in _pair_links(pair):
            _link(path, folder / relative)
    return "paired", folder


def steps_per_second(config: Config, warmup: int = 30, steps: int = 60, repeats: int = 3) -> float:
    """Average training steps per second of a run of ``config``. Terms that start part-way (MCLIR's
    SPN from ``model.spn.start``, a loss from ``train.losses[].start``) split the run into phases;
    each phase is timed with its terms on and weighted by its share of the steps, so a run with an
    expensive late term is given the time of the plain runs it is compared with."""
    phases = training_phases(config)
    seconds_per_step = sum(share / _measured_rate(phase, warmup, steps, repeats) for share, phase in phases)
    return 1.0 / seconds_per_step


def training_phases(config: Config) -> list[tuple[float, Config]]:
    """(share of the steps, a config with that phase's terms on from its first step) for each phase
    between the starts of the run's scheduled terms; one phase, ``config`` itself, when every term
    runs from the start."""
    spn = config.model.spn
    starts = sorted({0.0, *(loss.start for loss in config.train.losses), *([spn.start] if spn.enabled else [])})
    if starts == [0.0]:
        return [(1.0, config)]
    phases = []
    for begin, end in zip(starts, [*starts[1:], 1.0]):
        phase = copy.deepcopy(config)
        phase.train.losses = [dataclasses.replace(loss, start=0.0) for loss in config.train.losses if loss.start <= begin]
        phase.model.spn = dataclasses.replace(spn, enabled=spn.enabled and spn.start <= begin, start=0.0)
        phases.append((end - begin, phase))
    return phases


def _measured_rate(config: Config, warmup: int, steps: int, repeats: int) -> float:
    """Steps per second in a throw-away run: after ``warmup`` steps and with every training image
    decoded (as during almost all of a long run), each of ``repeats`` rounds times a short continuation
    and one ``steps`` longer, and the rate is that of the difference, so what each ``fit`` call costs
    besides its steps (starting the loader, writing the checkpoint) cancels; the median of the rounds.
    (Whole 30-step calls read fast models 5-30 % slow: their 20-minute budgets in the rain table of
    ``benchmarks.equal_time``, ``git show e35d39e:RESULTS.md``, ran 15-19.5 minutes. The differential reading ran them
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

    # whole periods of the terms applied on every k-th step, so every timing holds the same share of them
    period = math.lcm(*(loss.every for loss in config.train.losses), config.model.spn.every if config.model.spn.enabled else 1)
    steps = -(-steps // period) * period
    short = -(-max(1, steps // 6) // period) * period
    rates = []
    for _ in range(repeats):
        brief, full = seconds(short), seconds(short + steps)
        rates.append(steps / (full - brief) if full > brief else (short + steps) / full)  # noise: whole call
    return float(np.median(rates))


def calibrate(suite: Suite, method: str, folders: dict[str, Path], seed: int, work: Path) -> float:
    """Training steps per second of one run of a method (``steps_per_second`` in ``WORK/calibration``),
    measured once and kept in the run folder's ``calibration.json``."""
    path = run_folder(suite, method, seed, work) / "calibration.json"
    if path.is_file():
        return float(json.loads(path.read_text())["steps_per_s"])
    speed = steps_per_second(method_config(suite, method, folders[method], seed, [f"output_dir={work}", "name=calibration"]))
    ensure_dir(path.parent)
    atomic_write_text(path, json.dumps({"steps_per_s": speed, "threads": torch.get_num_threads()}))
    return speed


def ensure_budget(suite: Suite, method: str, seed: int, folders: dict[str, Path], run_dir: Path, work: Path) -> dict:
    """The run's step count, kept in ``budget.json``: an equal-time budget times the method's speed,
    the median of one calibration per seed, or per each of the budget's first ``calibrated_seeds``
    (single calibrations of one small model read up to 40 % apart on this machine: 2.66-3.78 steps/s
    in ``benchmarks/results/mgid_timelapse_real.json``), so every seed of a method trains the same
    steps; or the method's own ``steps``; or the steps of the ``steps_of`` method's run."""
    if (run_dir / "budget.json").is_file():
        return json.loads((run_dir / "budget.json").read_text())
    other, speeds = suite.methods[method].steps_of, []
    if suite.methods[method].steps is not None:
        steps, speed = suite.methods[method].steps, None
    elif other:
        steps, speed = ensure_budget(suite, other, seed, folders, run_folder(suite, other, seed, work), work)["steps"], None
    elif suite.budget.minutes is not None:
        speeds = [calibrate(suite, method, folders, s, work) for s in suite.seeds[:suite.budget.calibrated_seeds]]
        speed = float(np.median(speeds))
        steps = max(10, int(suite.budget.minutes * 60 * speed))
    else:
        steps, speed = int(suite.budget.steps), None
    state = {"steps": steps, "calibrated_steps_per_s": speed, "calibrations": speeds, "threads": torch.get_num_threads()}
    ensure_dir(run_dir)
    atomic_write_text(run_dir / "budget.json", json.dumps(state))
    return state


def score(model: Any, pairs: list[Pair], convention: str) -> list[float]:
    """PSNR of every test pair, in the suite's order."""
    return [s["psnr"] for s in per_image_scores(model, PairedImageDataset(pairs), convention)]


def run_folder(suite: Suite, method: str, seed: int, work: Path) -> Path:
    """``WORK/<method>-s<seed>-<key>``: a changed method gets a new folder (``suite.run_key``)."""
    return work / f"{slug(method).strip('_')}-s{seed}-{run_key(suite, method, seed)}"


def train_run(suite: Suite, method: str, seed: int, folders: dict[str, Path], run_dir: Path, work: Path) -> tuple[Any, dict]:
    """Train (or resume) one run under the suite's budget: the model and what to record of the run."""
    with CpuShare() as share:  # calibration and training, as the record says whether they had the cores
        state = ensure_budget(suite, method, seed, folders, run_dir, work)
        steps, every = state["steps"], max(1, state["steps"] // suite.checkpoints)
        curve = suite.curve or next(iter(suite.tests))
        layout, root = test_folder(suite, curve, work)
        overrides = [f"output_dir={work}", f"name={run_dir.name}", f"train.iterations={steps}",
                     f"train.val_every={every}", f"train.checkpoint_every={every}",
                     f"data.val={{type: {layout}, root: {root}}}", f"eval.convention={suite.tests[curve].convention}"]
        if suite.budget.minutes is not None:  # steps found by calibration: a 2 % warm-up of whatever they are
            overrides.append(f"train.scheduler.warmup_iters={steps // 50}")
        config = method_config(suite, method, folders[method], seed, overrides)
        resume = (run_dir / RESUME_FILE).is_file()
        trainer = Trainer(config, progress=True, resume=resume, overwrite=not resume)
        trainer.fit()
    final = trainer.final_weights  # with train.ema, the averaged weights are scored, stored and charted
    return final.module, {**state, "train_seconds": trainer.summary["seconds"], "machine": machine(),
                          "cpu_share": round(share.value, 2), "curve": trainer.psnr_curve(),
                          "checkpoint": str(final.checkpoint)}


def run_one(suite: Suite, method: str, seed: int, folders: dict[str, Path], tests: dict[str, list[Pair]], work: Path) -> dict:
    """Train (or resume) one run, or build a learning-free method as it is, and score it; the result
    is kept in the run folder's ``bench.json``."""
    run_dir = run_folder(suite, method, seed, work)
    done = run_dir / "bench.json"
    if done.is_file():
        return json.loads(done.read_text())
    if suite.methods[method].train:
        model, record = train_run(suite, method, seed, folders, run_dir, work)
    else:  # a learning-free baseline: scored as built
        config = method_config(suite, method, "untrained", seed)
        model = model_from_config(config.model).eval()
        ensure_dir(run_dir)
        save_checkpoint(run_dir / "model", model, config, step=0)
        record = {"steps": 0, "calibrated_steps_per_s": None, "train_seconds": 0.0, "curve": [],
                  "checkpoint": str(run_dir / "model.safetensors")}
    result = {"method": method, "seed": seed, "key": run_key(suite, method, seed), **record,
              "scores": {name: score(model, pairs, suite.tests[name].convention) for name, pairs in tests.items()}}
    atomic_write_text(done, json.dumps(result))
    return result


def run_side_by_side(suite: Suite, jobs: list[tuple[int, str]], folders: dict[str, Path], tests: dict[str, list[Pair]],
                     work: Path) -> list[dict]:
    """``suite.jobs`` runs at a time, each on ``suite.threads()`` threads, after every budget was
    calibrated alone on the machine with those threads; results in ``jobs``' order."""
    threads, previous = suite.threads(), torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for seed, method in tqdm(jobs, desc="calibrating, one run at a time", unit="run"):
            if suite.methods[method].train:
                ensure_budget(suite, method, seed, folders, run_folder(suite, method, seed, work), work)
    finally:
        torch.set_num_threads(previous)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked thread pools
    with ProcessPoolExecutor(suite.jobs, mp_context=context, initializer=torch.set_num_threads,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(run_one, suite, method, seed, folders, tests, work): i
                   for i, (seed, method) in enumerate(jobs)}
        results: list[dict | None] = [None] * len(jobs)
        for future in tqdm(as_completed(futures), total=len(jobs), desc=f"suite {suite.name}, {suite.jobs} at a time",
                           unit="run"):
            results[futures[future]] = future.result()
    return results


def run_suite(suite: Suite, out: Path, work: Path, command: str, report_only: bool = False) -> dict:
    """Every (seed, method) of the suite, seed-major so a partial suite still compares every method;
    then the report. Returns the runs and the inputs' PSNR/SSIM per test set (``input_scores``)."""
    tests = {name: named_pairs(t, work) for name, t in suite.tests.items()}
    results: list[dict] = []
    if not report_only:
        folders = training_folders(suite, work)
        jobs = [(seed, method) for seed in suite.seeds for method in suite.methods]
        if suite.jobs == 1:
            for seed, method in tqdm(jobs, desc=f"suite {suite.name}", unit="run"):
                results.append(run_one(suite, method, seed, folders, tests, work))
        else:
            results = run_side_by_side(suite, jobs, folders, tests, work)
    else:
        for seed in suite.seeds:
            for method in suite.methods:
                done = run_folder(suite, method, seed, work) / "bench.json"
                if done.is_file():
                    results.append(json.loads(done.read_text()))
    input_scores = {name: [psnr_ssim(to_float_rgb(read_image(p.input)), to_float_rgb(read_image(p.target)),
                                     suite.tests[name].convention) for p in pairs] for name, pairs in tests.items()}
    inputs = {name: [s["psnr"] for s in scores] for name, scores in input_scores.items()}
    write_quality_report(suite, results, inputs, tests, out, command)
    return {"runs": results, "input_scores": input_scores}

