"""Benchmark reports: JSON + Markdown headed by the command that produced them (the one writer every
benchmark uses), paired differences with 95 % t-intervals, training curves and visual grids."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..io.atomic import atomic_path, atomic_write_text


def write_report(out: str | Path, stem: str, data: dict, lines: list[str]) -> None:
    """``out/stem.json`` (``data``) and ``out/stem.md`` (``lines``), each replaced atomically."""
    out = Path(out)
    atomic_write_text(out / f"{stem}.json", json.dumps(data, indent=2) + "\n")
    atomic_write_text(out / f"{stem}.md", "\n".join(lines) + "\n")


def peak_resident_gib() -> float:
    """This process's peak resident memory in GiB: ``VmHWM`` of ``/proc/self/status`` on Linux, the
    high-water mark of this program's own memory. (``ru_maxrss`` is no substitute in a child started
    by a large process: Linux carries the parent's peak over fork and exec, so every child of a
    3 GiB benchmark read 3.14 GiB.) Elsewhere ``ru_maxrss``, with that caveat."""
    import resource
    import sys

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20  # bytes on macOS, KiB elsewhere


def machine() -> str:
    """The CPU a measurement ran on (model, cores, widest vector unit) and torch's version. Recorded
    with every timed run: an equal-time budget is the steps a model makes in that time on one machine,
    and the same 20 minutes buy a different number of steps on another."""
    import os
    import platform

    import torch

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    vector += " + AMX" if "amx_bf16" in flags else ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, {vector}, torch {torch.__version__}"


class CpuShare:
    """Measures, over a ``with`` block, the CPU time this process used as a share of wall time x torch's
    threads: near 1 when the run had its cores to itself, near 1/2 when another job took half of them.
    Recorded with every timed run, so a timing taken on a shared machine shows as such."""

    def __enter__(self) -> "CpuShare":
        self.value, self._wall, self._cpu = float("nan"), time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        wall = (time.perf_counter() - self._wall) * torch.get_num_threads()
        self.value = (time.process_time() - self._cpu) / wall if wall > 0 else float("nan")


def interval(differences: list[float]) -> str:
    """``mean [low, high] (n=N)``: the mean and its two-sided 95 % t-interval."""
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return f"{d.mean():+.2f} (n={len(d)})"
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.2f} [{d.mean() - half:+.2f}, {d.mean() + half:+.2f}] (n={len(d)})"


def plot_curves(runs: list[dict], methods: list[str], path: Path, title: str) -> None:
    """Validation PSNR against training minutes, one colour per method, one line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for i, method in enumerate(methods):
        for j, run in enumerate(r for r in runs if r["method"] == method):
            if run["curve"]:
                t, p = zip(*run["curve"])
                axis.plot(np.array(t) / 60, p, marker="o", color=f"C{i}", alpha=0.9, label=method if j == 0 else None)
    axis.set_xlabel("training time (min, validation excluded)")
    axis.set_ylabel("validation PSNR (dB)")
    axis.set_title(title)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


def zoomed(image: np.ndarray, fraction: float = 0.25) -> np.ndarray:
    """The centre crop covering ``fraction`` of each side (shown beside the whole image)."""
    h, w = image.shape[:2]
    ch, cw = max(8, int(h * fraction)), max(8, int(w * fraction))
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top : top + ch, left : left + cw]


def quality_lines(suite: Any, runs: list[dict], inputs: dict[str, list[float]], command: str) -> list[str]:
    """The Markdown table (mean ± std over seeds) and the paired differences to the baseline."""
    conventions = ", ".join(f"{name}: {t.convention}" for name, t in suite.tests.items())
    own = any(spec.steps is not None for spec in suite.methods.values())  # a replay: each run's own steps
    budget = (f"budget {suite.budget.words()} per run or a method's own steps" if own
              else f"equal budget {suite.budget.words()} per run")
    lines = [f"`{command}` (suite {suite.name}: {budget}, seeds {suite.seeds}; {conventions})", "",
             "| method | seeds | steps | train min | " + " | ".join(f"{n} PSNR" for n in suite.tests) + " |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in suite.tests) + " |",
             "| input | - | - | - | " + " | ".join(f"{np.mean(v):.2f}" for v in inputs.values()) + " |"]
    for method in suite.methods:
        mine = [r for r in runs if r["method"] == method]
        if not mine:
            continue
        cells = []
        for name in suite.tests:
            means = np.array([np.mean(r["scores"][name]) for r in mine])
            cells.append(f"{means.mean():.2f} ± {means.std(ddof=1) if len(means) > 1 else 0.0:.2f}")
        lines.append(f"| {method} | {len(mine)} | {int(np.mean([r['steps'] for r in mine]))} | "
                     f"{np.mean([r['train_seconds'] for r in mine]) / 60:.1f} | " + " | ".join(cells) + " |")
    if suite.baseline:
        lines += ["", f"Paired differences to {suite.baseline} (dB, mean [95 % interval]): per test image with seeds "
                      "pooled, and per seed.", "", "| method | test set | per image | per seed |", "| --- | --- | --- | --- |"]
        lines += [row for method in suite.methods if method != suite.baseline
                  for row in difference_rows(runs, suite.tests, method, suite.baseline, method)]
    further = [row for method, spec in suite.methods.items() for reference in spec.versus
               for row in difference_rows(runs, suite.tests, method, reference, f"{method} - {reference}")]
    if further:
        lines += ["", "Further paired differences (dB, mean [95 % interval]).", "",
                  "| comparison | test set | per image | per seed |", "| --- | --- | --- | --- |", *further]
    return lines


def difference_rows(runs: list[dict], tests: Iterable[str], method: str, reference: str, label: str) -> list[str]:
    """Markdown rows ``| label | test | per image | per seed |``: the runs of ``method`` minus those of
    ``reference``, paired by seed, on every test set: per image (seeds pooled) and per seed, each with
    its 95 % interval. No rows when no seed has both."""
    pairs = [(a, b) for a in runs for b in runs if a["method"] == method and b["method"] == reference
             and a["seed"] == b["seed"]]
    rows = []
    for name in tests if pairs else []:
        per_image = [x - y for a, b in pairs for x, y in zip(a["scores"][name], b["scores"][name])]
        per_seed = [np.mean(a["scores"][name]) - np.mean(b["scores"][name]) for a, b in pairs]
        rows.append(f"| {label} | {name} | {interval(per_image)} | {interval(per_seed)} |")
    return rows


def write_quality_report(suite: Any, runs: list[dict], inputs: dict[str, list[float]], tests: dict[str, list],
                         out: Path, command: str) -> None:
    """``out/<suite>.{json,md}``, the curves ``<suite>.png`` and the grid ``<suite>_grid.png``."""
    from ..config import to_plain

    lines = quality_lines(suite, runs, inputs, command)
    write_report(out, suite.name, {"command": command, "suite": to_plain(suite), "inputs": inputs, "runs": runs}, lines)
    methods = [m for m in suite.methods if any(r["method"] == m for r in runs)]
    plot_curves(runs, methods, out / f"{suite.name}.png", f"{suite.name}: validation PSNR over training time")
    write_grid(suite, runs, tests, out / f"{suite.name}_grid.png")


def write_grid(suite: Any, runs: list[dict], tests: dict[str, list], path: Path) -> None:
    """The first image of the first test set: input, each method (first seed) and target, whole and
    a zoomed centre crop."""
    from ..api import load
    from ..io import read_image, to_float_rgb
    from ..visualize import save_comparison_grid

    pair = next(iter(tests.values()))[0]
    degraded, target = to_float_rgb(read_image(pair.input)), to_float_rgb(read_image(pair.target))
    rows = {"input": [degraded, zoomed(degraded)]}
    for method in suite.methods:
        run = next((r for r in runs if r["method"] == method and Path(r.get("checkpoint", "")).is_file()), None)
        if run is not None:
            restored = load(run["checkpoint"], device="cpu").restore_array(degraded)
            rows[method] = [restored, zoomed(restored)]
    rows["target"] = [target, zoomed(target)]
    save_comparison_grid(rows, path, height=200)
