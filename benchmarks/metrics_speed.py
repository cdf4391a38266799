"""Metric speed on a 12-megapixel pair (4000x3000 RGB, uint8), per convention.

    .venv/bin/python -m benchmarks.metrics_speed [--out benchmarks/results]

Writes metrics_speed.json and metrics_speed.md (with this command) into --out. Each figure is the
best of --repeats runs.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from benchmarks.report import write_report
from memrestore.metrics import CONVENTIONS, psnr, ssim

COMMAND = ".venv/bin/python -m benchmarks.metrics_speed"


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    b = np.clip(a.astype(np.int16) + rng.integers(-10, 11, a.shape), 0, 255).astype(np.uint8)
    rows = []
    for name in CONVENTIONS:
        rows.append({
            "convention": name,
            "psnr_s": round(best_time(lambda: psnr(a, b, name), args.repeats), 3),
            "ssim_s": round(best_time(lambda: ssim(a, b, name), 1), 3),
        })
    result = {"command": COMMAND, "image": "4000x3000x3 uint8", "cpu": platform.processor() or platform.machine(), "rows": rows}
    lines = [f"`{COMMAND}` (4000x3000 RGB uint8; PSNR best of {args.repeats}, SSIM one run)", "",
             "| convention | PSNR (s) | SSIM (s) |", "| --- | --- | --- |"]
    lines += [f"| {r['convention']} | {r['psnr_s']} | {r['ssim_s']} |" for r in rows]
    write_report(args.out, "metrics_speed", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
