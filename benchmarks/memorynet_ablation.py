"""MemoryNet ablation on real haze: backbone / + memory / + contrastive / + both, several seeds, one
training budget. (The same ablation on real rain is a suite now: ``benchmarks/suites/memorynet_ablation.yaml``;
this script goes when ``memorynet_ablation_dehaze.yaml`` replaces its table.)

    .venv/bin/python -m benchmarks.memorynet_ablation --task dehaze [--seeds 0 1 2] [--steps 400]

memrestore/configs/memorynet/dehaze_cpu.yaml, trained on synthetic haze (``memrestore synth --task dehaze
--preset sots``, 2 renderings of the 92 clean photos, pseudo-depth), tested on the 50 real RESIDE
SOTS-indoor pairs (RGB PSNR/SSIM, the dehazing convention). Writes memorynet_ablation_dehaze.{json,md,png}
into --out; finished runs are kept, so a stopped run resumes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.rain12 import input_baseline, plot_runs, run_grid, summary_lines
from benchmarks.report import SHARED, write_report

from memrestore.data.synth import synthesize_pairs

COMMAND = ".venv/bin/python -m benchmarks.memorynet_ablation"
NO_CONTRASTIVE = ["train.losses=[{name: charbonnier}, {name: edge, weight: 0.05}]"]
VARIANTS = {
    "backbone (MPRNet)": ["model.memory=none", *NO_CONTRASTIVE],
    "+ memory (feature)": ["model.memory=feature", *NO_CONTRASTIVE],
    "+ contrastive": ["model.memory=none"],
    "+ memory + contrastive": ["model.memory=feature"],
}
CONFIG = "memorynet/dehaze_cpu.yaml"
TEST_ROOT = SHARED / "real" / "dehaze-SOTS-indoor"
CONVENTION = "rgb"
STEM = "memorynet_ablation_dehaze"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="dehaze", choices=["dehaze"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/memorynet-ablation-dehaze", help="run folder")
    parser.add_argument("--report-only", action="store_true", help="summarise the finished runs, train nothing")
    args = parser.parse_args()
    work, out = Path(args.work), Path(args.out)
    chosen = {} if args.report_only else {v: (CONFIG, VARIANTS[v]) for v in args.variants}
    train_root = None
    if chosen:
        train_root = work / "data"
        synthesize_pairs(SHARED / "clean", train_root, "dehaze", "sots", renderings=2, seed=0)
    results, rows = run_grid(out / f"{STEM}.json", work, chosen, args.seeds, args.steps, COMMAND, train_root, TEST_ROOT, CONVENTION)
    baseline = input_baseline(TEST_ROOT, CONVENTION)
    lines = [f"`{COMMAND} --task dehaze --steps {args.steps} --seeds {' '.join(map(str, args.seeds))} --variants ...`", "",
             f"{TEST_ROOT.name} ({len(list((TEST_ROOT / 'input').iterdir()))} real pairs), convention {CONVENTION}; "
             f"input {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of batch 4 x 64x64 per run, memrestore/configs/{CONFIG}.", "",
             *summary_lines(rows, list(VARIANTS), lambda v: "backbone (MPRNet)")]
    write_report(out, STEM, results, lines)
    plot_runs(rows, list(VARIANTS), out / f"{STEM}.png", f"MemoryNet ablation (dehaze, {TEST_ROOT.name})",
              ylabel=f"{TEST_ROOT.name} PSNR (dB, {CONVENTION})")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
