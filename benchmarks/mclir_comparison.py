"""MCLIR (SPN loss) on two architecture families, with and without SPN, several seeds, one budget;
plus the step-time overhead of the negative models.

    .venv/bin/python -m benchmarks.mclir_comparison [--seeds 0 1 2] [--steps 400]

Architectures: memrestore's U-Net (memrestore/configs/demo.yaml sizes) and spandrel's NAFNet
(width 16, 4 levels). "+ SPN" uses the published defaults (4 negatives, intervals 100/200/500/1000,
d 0.1, start at 10 %, subtractive form, weight 0.001); "(ratio, w 0.1)" the paper's ratio form with
AECR-Net's weight 0.1. Data and protocol: benchmarks/rain12.py. Writes
mclir_comparison.{json,md,png} into --out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from benchmarks.rain12 import input_baseline, plot_runs, run_grid, summary_lines
from benchmarks.report import write_report


COMMAND = ".venv/bin/python -m benchmarks.mclir_comparison"
CONFIG = "demo"
NAFNET = ["model={name: nafnet, width: 16, enc_blk_nums: [1, 1, 1, 1], dec_blk_nums: [1, 1, 1, 1]}"]
COMMON = ["data.train.batch_size=4", "train.checkpoint_every=0"]
SPN = ["model.spn.enabled=true"]
RATIO = [*SPN, "model.spn.form=ratio", "model.spn.weight=0.1"]
VARIANTS = {
    "U-Net": (CONFIG, COMMON),
    "U-Net + SPN": (CONFIG, [*COMMON, *SPN]),
    "NAFNet": (CONFIG, [*COMMON, *NAFNET]),
    "NAFNet + SPN": (CONFIG, [*COMMON, *NAFNET, *SPN]),
    "U-Net + SPN (ratio, w 0.1)": (CONFIG, [*COMMON, *RATIO]),
    "NAFNet + SPN (ratio, w 0.1)": (CONFIG, [*COMMON, *NAFNET, *RATIO]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/mclir-comparison")
    args = parser.parse_args()
    out = Path(args.out)
    results, rows = run_grid(out / "mclir_comparison.json", Path(args.work), VARIANTS, args.seeds, args.steps, COMMAND)
    baseline = input_baseline()
    reference = lambda v: v.split(" + SPN")[0]
    lines = [f"`{COMMAND} --steps {args.steps} --seeds {' '.join(map(str, args.seeds))}`", "",
             f"Rain12 (12 real pairs), convention y-matlab; input {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of batch 4 x 64x64 per run.", "",
             *summary_lines(rows, list(VARIANTS), reference), ""]
    for arch in ("U-Net", "NAFNet"):
        plain = [r["train_seconds"] for r in rows if r["variant"] == arch]
        spn = [r["train_seconds"] for r in rows if r["variant"] == f"{arch} + SPN"]  # same cost in both forms
        if plain and spn:
            # SPN runs without negatives for the first 10 % of steps; scale to the active part.
            overhead = (np.mean(spn) / np.mean(plain) - 1) / 0.9
            lines.append(f"- {arch}: SPN step-time overhead while active: {overhead:+.0%} "
                         f"(4 negative forward passes + feature distances; whole run {np.mean(spn) / np.mean(plain) - 1:+.0%})")
    write_report(out, "mclir_comparison", results, lines)
    plot_runs(rows, list(VARIANTS), out / "mclir_comparison.png", "MCLIR (SPN) on Rain12")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
