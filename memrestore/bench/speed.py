"""`memrestore bench speed SUITE.yaml`: the suite's models side by side in one process (random
weights, fp32, 2 threads, interleaved rounds, median kept): inference MP/s at 512x512 and at the
given sizes, training steps/s (batch 4 x 96x96, L1, Adam), parameters and MACs, and each model's peak
memory restoring the largest size (measured in a fresh process, so one model's memory does not hide
another's), all as ratios to the suite's baseline (else its first method)."""

from __future__ import annotations

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

from ..models import build_model, final_output
from ..models.complexity import count_macs, count_parameters
from .report import write_report
from .suite import Suite, method_config


def inference_timer(model: torch.nn.Module, megapixels: float, bf16: bool = False,
                    channels_last: bool = False) -> Callable[[], float]:
    """A function timing one restoration of a square image of ``megapixels``."""
    side = int(math.sqrt(megapixels * 1e6))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.rand(1, 3, side, side).contiguous(memory_format=fmt)

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
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x, y = torch.rand(4, 3, 96, 96).contiguous(memory_format=fmt), torch.rand(4, 3, 96, 96)

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


def interleaved(timers: dict[Any, Callable[[], float]], rounds: int, steps: int) -> dict[Any, float]:
    """Median seconds of every timer over ``rounds`` interleaved rounds (training timers: the median
    of ``steps`` steps per round), after one warm-up call each."""
    samples: dict[Any, list[float]] = {key: [] for key in timers}
    for run in timers.values():
        run()
    for _ in tqdm(range(rounds), desc="speed rounds", unit="round"):
        for key, run in timers.items():
            repeats = steps if key[1] == "train" else 1
            samples[key].append(statistics.median(run() for _ in range(repeats)))
    return {key: statistics.median(values) for key, values in samples.items()}


CHILD = "memrestore.bench.speed"


def peak_memory_gib(model: dict[str, Any], megapixels: float) -> float:
    """Peak resident memory (GiB) of a fresh process that builds ``model`` and restores one image of
    ``megapixels`` whole (fp32, no tiling)."""
    spec = json.dumps({"model": model, "megapixels": megapixels})
    done = subprocess.run([sys.executable, "-m", CHILD, spec], capture_output=True, text=True)
    if done.returncode != 0:
        return float("nan")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_gib"])


def _child(spec_json: str) -> None:
    import resource

    spec = json.loads(spec_json)
    torch.set_num_threads(2)
    model = build_model(**spec["model"])
    inference_timer(model, spec["megapixels"])()
    print(json.dumps({"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))


def run_speed(suite: Suite, out: Path, command: str, sizes: list[float], rounds: int = 3, steps: int = 5) -> list[dict]:
    """The speed table of the suite's methods; written as ``<suite>_speed.{json,md}``."""
    torch.set_num_threads(2)
    sections = {m: method_config(suite, m, "unused", suite.seeds[0]).model for m in suite.methods}
    specs = {m: {"name": s.name, **s.options} for m, s in sections.items()}
    all_sizes = [0.262144, *sizes]
    models, timers = {}, {}
    for method, spec in specs.items():
        torch.manual_seed(0)
        models[method] = build_model(**spec)
        if suite.methods[method].train:  # a learning-free baseline has no training step
            timers[(method, "train")] = training_timer(models[method])
        for size in all_sizes:
            timers[(method, size)] = inference_timer(models[method], size)
    seconds = interleaved(timers, rounds, steps)
    largest = max(all_sizes)
    rows = []
    for method, model in models.items():
        row = {"method": method, "params_m": round(count_parameters(model) / 1e6, 3),
               "gmacs_256": round(count_macs(model) / 1e9, 2),
               "train_steps_per_s": round(1 / seconds[(method, "train")], 2) if (method, "train") in seconds else None,
               **{f"mp_per_s@{s:g}": round(s / seconds[(method, s)], 3) for s in all_sizes},
               f"peak_gib@{largest:g}": round(peak_memory_gib(specs[method], largest), 2)}
        rows.append(row)
    reference = next((r for r in rows if r["method"] == suite.baseline), rows[0])
    ratio = lambda row, key: f"{row[key]} ({row[key] / reference[key]:.2f}x)" if row[key] and reference[key] else "-"
    lines = [f"`{command}` (suite {suite.name}; random weights, fp32, 2 threads, median of {rounds} interleaved rounds; "
             f"training = batch 4 x 96 x 96, L1, Adam; peak = resident memory of a fresh process restoring "
             f"{largest:g} MP whole; ratios to {reference['method']}; torch {torch.__version__})", "",
             "| method | params (M) | GMACs at 256x256 | " + " | ".join(f"MP/s at {s:.2g} MP" for s in all_sizes)
             + f" | train steps/s | peak GiB at {largest:g} MP |",
             "| --- | --- | --- | " + " | ".join("---" for _ in all_sizes) + " | --- | --- |"]
    for row in rows:
        lines.append(f"| {row['method']} | {row['params_m']} | {row['gmacs_256']} | "
                     + " | ".join(ratio(row, f"mp_per_s@{s:g}") for s in all_sizes)
                     + f" | {ratio(row, 'train_steps_per_s')} | {row[f'peak_gib@{largest:g}']} |")
    write_report(out, f"{suite.name}_speed", {"command": command, "rounds": rounds, "torch": torch.__version__,
                                               "rows": rows}, lines)
    return rows


if __name__ == "__main__":  # the fresh process of peak_memory_gib
    _child(sys.argv[1])
