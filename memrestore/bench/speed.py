"""`memrestore bench speed SUITE.yaml`: the suite's models side by side in one process (random
weights, fp32, 2 threads, interleaved rounds, median kept): inference MP/s at 512x512 and at the
given sizes, training steps/s (batch 4 x 96x96, L1, Adam), parameters and MACs, and each model's peak
memory restoring the largest size (measured in a fresh process, so one model's memory does not hide
another's), all as ratios to the suite's baseline (else its first method)."""

from __future__ import annotations

import copy
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm import tqdm

from ..config import Config
from ..errors import MemrestoreError
from ..models import build_model, final_output
from ..models.complexity import count_macs, count_parameters
from ..tensors import memory_format
from . import VARIANTS
from .quality import steps_per_second, training_folders
from .report import machine, peak_resident_gib, write_report
from .suite import Suite, method_config, slug


def inference_timer(model: torch.nn.Module, megapixels: float, bf16: bool = False,
                    channels_last: bool = False) -> Callable[[], float]:
    """A function timing one restoration of a square image of ``megapixels``."""
    side = int(math.sqrt(megapixels * 1e6))
    x = torch.rand(1, 3, side, side).contiguous(memory_format=memory_format(channels_last))

    def run() -> float:
        model.eval()
        start = time.perf_counter()
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            final_output(model(x))
        return time.perf_counter() - start

    return run


def training_timer(model: torch.nn.Module, bf16: bool = False, channels_last: bool = False) -> Callable[[], float]:
    """A function timing one training step (forward, L1, backward, Adam) on 4 x 96 x 96 crops."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x, y = torch.rand(4, 3, 96, 96).contiguous(memory_format=memory_format(channels_last)), torch.rand(4, 3, 96, 96)

    def run() -> float:
        model.train()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = final_output(model(x))
        torch.nn.functional.l1_loss(out.float(), y).backward()
        optimizer.step()
        return time.perf_counter() - start

    return run


def recipe_timer(config: Config) -> Callable[[], float]:
    """A function timing one step of ``config``'s whole training recipe through ``memrestore train``'s
    Trainer (its data pipeline, losses, SPN negatives, schedule and logging): seconds per step by the
    quality benchmark's differential timing in a fresh run (``steps_per_second``, one round, 32 timed
    steps, rounded up to whole periods of terms applied on every k-th step)."""

    def run() -> float:
        return 1.0 / steps_per_second(copy.deepcopy(config), warmup=10, steps=32, repeats=1)

    return run


def interleaved(timers: dict[Any, Callable[[], float]], rounds: int, steps: int) -> dict[Any, float]:
    """Median seconds of every timer over ``rounds`` interleaved rounds (training timers: the median
    of ``steps`` steps per round), after one warm-up call each (recipe timers warm up inside)."""
    samples: dict[Any, list[float]] = {key: [] for key in timers}
    for key, run in timers.items():
        if key[1] != "recipe":
            run()
    for _ in tqdm(range(rounds), desc="speed rounds", unit="round"):
        for key, run in timers.items():
            repeats = steps if key[1] == "train" else 1
            samples[key].append(statistics.median(run() for _ in range(repeats)))
    return {key: statistics.median(values) for key, values in samples.items()}


CHILD = "memrestore.bench.speed"


def variant_label(variant: str) -> str:
    """What a row's name gains for ``variant``: "" for fp32, else ", bf16 autocast" and/or ", channels-last"."""
    bf16, channels_last = VARIANTS[variant]
    return (", bf16 autocast" if bf16 else "") + (", channels-last" if channels_last else "")


def variant_settings(variant: str) -> list[str]:
    """The training-config overrides that give a recipe ``variant``'s precision and layout."""
    bf16, channels_last = VARIANTS[variant]
    return (["train.amp=bf16"] if bf16 else []) + (["train.channels_last=true"] if channels_last else [])


def variant_model(spec: dict[str, Any], variant: str) -> torch.nn.Module:
    """The model of ``spec`` (``build_model`` arguments) with its weights laid out as ``variant`` needs."""
    return build_model(**spec).to(memory_format=memory_format(VARIANTS[variant][1]))


def fresh_inference(model: dict[str, Any], megapixels: float, variant: str = "fp32", max_memory: int | None = None,
                    repeats: int = 1) -> dict[str, Any]:
    """A fresh process builds ``model`` and restores a square image of ``megapixels`` as ``variant``:
    whole, once (``max_memory`` None: only its peak memory is of use), or through ``memrestore
    restore``'s tiling with the tile chosen from ``max_memory`` bytes (overlap 32), after a warm-up,
    the median of ``repeats``. A fresh process because both the peak and the tile depend on the
    process's own memory. Returns ``peak_rss_gib``, and ``seconds`` and ``tile`` when tiled; NaN
    peak if the process failed (as whole inference does where the image does not fit)."""
    spec = json.dumps({"model": model, "megapixels": megapixels, "variant": variant, "max_memory": max_memory,
                       "repeats": repeats})
    done = subprocess.run([sys.executable, "-m", CHILD, spec], capture_output=True, text=True)
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"peak_rss_gib": float("nan"), "seconds": float("nan"), "tile": None, "error": error}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(spec_json: str) -> None:
    spec = json.loads(spec_json)
    torch.set_num_threads(2)
    variant, max_memory = spec["variant"], spec["max_memory"]
    torch.manual_seed(0)
    model = variant_model(spec["model"], variant)
    if max_memory is None:
        inference_timer(model, spec["megapixels"], *VARIANTS[variant])()
        print(json.dumps({"peak_rss_gib": peak_resident_gib()}))
        return
    from ..inference import InferenceOptions, restore
    from ..inference.budget import tile_for_budget

    model.eval()
    bf16, channels_last = VARIANTS[variant]
    side, overlap = int(math.sqrt(spec["megapixels"] * 1e6)), 32
    try:  # chosen once, as `restore --max-memory` chooses it, so the tile reported is the tile timed
        tile = tile_for_budget(model, side, side, max_memory, model.size_multiple, overlap)
    except MemrestoreError as exc:  # the parent reports it as one line
        sys.exit(str(exc))
    options = InferenceOptions(bf16=bf16, channels_last=channels_last, overlap=overlap, tile=tile)
    restore(model, torch.rand(1, 3, 96, 96), options)  # warm-up
    x = torch.rand(1, 3, side, side)
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        restore(model, x, options)
        times.append(time.perf_counter() - start)
    print(json.dumps({"peak_rss_gib": peak_resident_gib(), "seconds": statistics.median(times),
                      "tile": tile if tile < side else None}))


def run_speed(suite: Suite, out: Path, command: str, sizes: list[float], rounds: int = 3, steps: int = 5,
              variants: list[str] | None = None, work: Path | None = None, max_memory: int | None = None) -> str:
    """The speed table of the suite's methods, each in every variant (fp32, bf16 autocast,
    channels-last); written as ``<suite>_speed[_<variants>][_tiled].{json,md}``, whose name is
    returned. A suite with training data also times each method's whole recipe through the Trainer on
    it (run folders under ``work``), beside the bare model step: what its losses, SPN and data
    pipeline cost. ``max_memory`` (bytes): inference is tiled to fit it, as ``memrestore restore
    --max-memory`` does, each model and size in a fresh process (``fresh_inference``)."""
    torch.set_num_threads(2)
    variants = variants or ["fp32"]
    work = work or Path("runs") / "bench" / suite.name
    folders = training_folders(suite, work)
    sections = {m: method_config(suite, m, "unused", suite.seeds[0]).model for m in suite.methods}
    specs = {m: {"name": s.name, **s.options} for m, s in sections.items()}
    all_sizes = [0.262144, *sizes]
    models, timers, rows_of = {}, {}, {}
    for method, spec in specs.items():
        for variant in variants:
            bf16, channels_last = VARIANTS[variant]
            name = method + variant_label(variant)
            torch.manual_seed(0)
            models[name] = variant_model(spec, variant)
            rows_of[name] = (method, variant)
            if suite.methods[method].train:  # a learning-free baseline has no training step
                timers[(name, "train")] = training_timer(models[name], bf16, channels_last)
                if method in folders:
                    config = method_config(suite, method, folders[method], suite.seeds[0], [
                        f"output_dir={work}", "name=speed", *variant_settings(variant)])
                    timers[(name, "recipe")] = recipe_timer(config)
            for size in all_sizes if max_memory is None else []:
                timers[(name, size)] = inference_timer(models[name], size, bf16, channels_last)
    largest = max(all_sizes)
    fresh = {}  # first, so a budget too small for tiling stops the run before the rounds
    for name in tqdm(models, desc="peak memory" if max_memory is None else "tiled inference", unit="model"):
        method, variant = rows_of[name]
        if max_memory is None:
            fresh[name] = {largest: fresh_inference(specs[method], largest, variant)}
            continue
        fresh[name] = {s: fresh_inference(specs[method], s, variant, max_memory, rounds) for s in all_sizes}
        failed = next((s for s in all_sizes if "error" in fresh[name][s]), None)
        if failed is not None:  # tiling is what makes a photo fit: a failure is the budget's, not a NaN
            raise MemrestoreError(f"{name} at {failed:g} MP within {max_memory / 2**30:g} GiB: {fresh[name][failed]['error']}")
    seconds = interleaved(timers, rounds, steps)
    if max_memory is not None:  # measured in the fresh processes
        seconds.update({(name, s): fresh[name][s]["seconds"] for name in models for s in all_sizes})
    rows = []
    for name, model in models.items():
        method, variant = rows_of[name]
        row = {"method": name, "params_m": round(count_parameters(model) / 1e6, 3),
               "gmacs_256": round(count_macs(model) / 1e9, 2),
               "train_steps_per_s": round(1 / seconds[(name, "train")], 2) if (name, "train") in seconds else None,
               "recipe_steps_per_s": round(1 / seconds[(name, "recipe")], 2) if (name, "recipe") in seconds else None,
               **{f"mp_per_s@{s:g}": round(s / seconds[(name, s)], 3) for s in all_sizes},
               f"peak_gib@{largest:g}": round(fresh[name][largest]["peak_rss_gib"], 2),
               **({f"tile@{largest:g}": fresh[name][largest]["tile"]} if max_memory else {})}
        rows.append(row)
    reference = next((r for r in rows if r["method"] == suite.baseline), rows[0])
    recipe_note = ("; recipe = each method's recipe through the Trainer on the suite's training data, "
                   f"seed {suite.seeds[0]}") if folders else ""
    ratio = lambda row, key: f"{row[key]} ({row[key] / reference[key]:.2f}x)" if row[key] and reference[key] else "-"
    restoring = (f"inference tiled to fit {max_memory / 2**30:g} GiB as `memrestore restore --max-memory` does "
                 f"(overlap 32; tile = side at {largest:g} MP, - = whole), each model and size in a fresh process, median "
                 f"of {rounds}; peak = resident memory of that process at {largest:g} MP" if max_memory else
                 f"peak = resident memory of a fresh process restoring {largest:g} MP whole")
    lines = [f"`{command}` (suite {suite.name}; random weights, 2 threads, median of {rounds} interleaved rounds; "
             f"training = batch 4 x 96 x 96, L1, Adam{recipe_note}; {restoring}; ratios to {reference['method']}; "
             f"{machine()})", "",
             "| method | params (M) | GMACs at 256x256 | " + " | ".join(f"MP/s at {s:.2g} MP" for s in all_sizes)
             + " | train steps/s |" + (" recipe steps/s (Trainer) | Trainer vs bare step |" if folders else "")
             + f" peak GiB at {largest:g} MP |" + (" tile |" if max_memory else ""),
             "| --- | --- | --- | " + " | ".join("---" for _ in all_sizes) + " | --- |" + (" --- | --- |" if folders else "")
             + " --- |" + (" --- |" if max_memory else "")]
    for row in rows:
        recipe = ""
        if folders:
            overhead = f"{row['recipe_steps_per_s'] / row['train_steps_per_s']:.2f}x" if row["recipe_steps_per_s"] else "-"
            recipe = f" {ratio(row, 'recipe_steps_per_s')} | {overhead} |"
        lines.append(f"| {row['method']} | {row['params_m']} | {row['gmacs_256']} | "
                     + " | ".join(ratio(row, f"mp_per_s@{s:g}") for s in all_sizes)
                     + f" | {ratio(row, 'train_steps_per_s')} |{recipe} {row[f'peak_gib@{largest:g}']} |"
                     + (f" {row[f'tile@{largest:g}'] or '-'} |" if max_memory else ""))
    name = "_".join([f"{suite.name}_speed", *(slug(v) for v in variants if v != "fp32"),
                     *(["tiled"] if max_memory else [])])
    write_report(out, name, {"command": command, "rounds": rounds, "variants": variants, "machine": machine(),
                             "max_memory": max_memory, "rows": rows}, lines)
    return name


if __name__ == "__main__":  # the fresh process of fresh_inference
    _child(sys.argv[1])
