"""MemoryNet ablation on real rain: backbone / + memory / + contrastive / + both (and the released
memory placement), several seeds, one training budget.

    .venv/bin/python benchmarks/memorynet_ablation.py [--seeds 0 1 2] [--steps 400] [--variants ...]

Model: configs/memorynet/derain_cpu.yaml; data and protocol: benchmarks/rain12.py. Writes
memorynet_ablation.{json,md,png} into --out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rain12 import ROOT, input_baseline, plot_runs, run_grid, summary_lines

from memrestore.io.atomic import atomic_write_text

COMMAND = ".venv/bin/python benchmarks/memorynet_ablation.py"
CONFIG = ROOT / "configs" / "memorynet" / "derain_cpu.yaml"
NO_CONTRASTIVE = ["train.losses=[{name: charbonnier}, {name: edge, weight: 0.05}]"]
VARIANTS = {
    "backbone (MPRNet)": (CONFIG, ["model.memory=none", *NO_CONTRASTIVE]),
    "+ memory (feature)": (CONFIG, ["model.memory=feature", *NO_CONTRASTIVE]),
    "+ contrastive": (CONFIG, ["model.memory=none"]),
    "+ memory + contrastive": (CONFIG, ["model.memory=feature"]),
    "+ memory (released placement)": (CONFIG, ["model.memory=released", *NO_CONTRASTIVE]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/memorynet-ablation")
    parser.add_argument("--report-only", action="store_true", help="summarise the finished runs, train nothing")
    args = parser.parse_args()
    out = Path(args.out)
    chosen = {} if args.report_only else {v: VARIANTS[v] for v in args.variants}
    rows = run_grid(out / "memorynet_ablation.json", Path(args.work), chosen, args.seeds, args.steps, COMMAND)
    baseline = input_baseline()
    lines = [f"`{COMMAND} --steps {args.steps} --seeds {' '.join(map(str, args.seeds))} --variants ...`", "",
             f"Rain12 (12 real pairs), convention y-matlab; input {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of batch 4 x 64x64 per run, configs/memorynet/derain_cpu.yaml.", "",
             *summary_lines(rows, list(VARIANTS), lambda v: "backbone (MPRNet)")]
    atomic_write_text(out / "memorynet_ablation.md", "\n".join(lines) + "\n")
    plot_runs(rows, list(VARIANTS), out / "memorynet_ablation.png", "MemoryNet ablation on Rain12")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
