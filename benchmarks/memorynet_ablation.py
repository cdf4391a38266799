"""MemoryNet ablation on real data: backbone / + memory / + contrastive / + both (plus the released
memory placement and the pixel feature space), several seeds, one training budget.

    .venv/bin/python -m benchmarks.memorynet_ablation [--task derain|dehaze] [--seeds 0 1 2] [--steps 400] [--variants ...]

derain: memrestore/configs/memorynet/derain_cpu.yaml, trained on light synthetic rain, tested on Rain12 (Y MATLAB),
see benchmarks/rain12.py. dehaze: memrestore/configs/memorynet/dehaze_cpu.yaml, trained on synthetic haze
(``memrestore synth --task dehaze --preset sots``, 2 renderings of the 92 clean photos, pseudo-depth),
tested on the 50 real RESIDE SOTS-indoor pairs (RGB PSNR/SSIM, the dehazing convention). Writes
memorynet_ablation[_dehaze].{json,md,png} into --out; finished runs are kept, so a stopped run resumes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.rain12 import RAIN12, input_baseline, plot_runs, run_grid, summary_lines
from benchmarks.report import SHARED, write_report

from memrestore.data.synth import synthesize_pairs

COMMAND = ".venv/bin/python -m benchmarks.memorynet_ablation"
BASE_LOSSES = "{name: charbonnier}, {name: edge, weight: 0.05}"
NO_CONTRASTIVE = [f"train.losses=[{BASE_LOSSES}]"]
PIXEL_CONTRASTIVE = [f"train.losses=[{BASE_LOSSES}, {{name: contrastive, weight: 0.1, stages: final, features: pixel}}]"]
VARIANTS = {
    "backbone (MPRNet)": ["model.memory=none", *NO_CONTRASTIVE],
    "+ memory (feature)": ["model.memory=feature", *NO_CONTRASTIVE],
    "+ contrastive": ["model.memory=none"],
    "+ memory + contrastive": ["model.memory=feature"],
    "+ memory (released placement)": ["model.memory=released", *NO_CONTRASTIVE],
    "+ contrastive (pixel features)": ["model.memory=none", *PIXEL_CONTRASTIVE],
}
TASKS = {  # task -> (config, test set, convention, results stem)
    "derain": ("derain_cpu.yaml", RAIN12, "y-matlab", "memorynet_ablation"),
    "dehaze": ("dehaze_cpu.yaml", SHARED / "real" / "dehaze-SOTS-indoor", "rgb", "memorynet_ablation_dehaze"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="derain", choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS)[:4], choices=list(VARIANTS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default=None, help="run folder (default runs/memorynet-ablation[-TASK])")
    parser.add_argument("--report-only", action="store_true", help="summarise the finished runs, train nothing")
    args = parser.parse_args()
    config_name, test_root, convention, stem = TASKS[args.task]
    config = f"memorynet/{config_name}"
    work = Path(args.work or ("runs/memorynet-ablation" + ("" if args.task == "derain" else f"-{args.task}")))
    out = Path(args.out)
    chosen = {} if args.report_only else {v: (config, VARIANTS[v]) for v in args.variants}
    train_root = None
    if args.task == "dehaze" and chosen:
        train_root = work / "data"
        synthesize_pairs(SHARED / "clean", train_root, "dehaze", "sots", renderings=2, seed=0)
    results, rows = run_grid(out / f"{stem}.json", work, chosen, args.seeds, args.steps, COMMAND, train_root, test_root, convention)
    baseline = input_baseline(test_root, convention)
    lines = [f"`{COMMAND} --task {args.task} --steps {args.steps} --seeds {' '.join(map(str, args.seeds))} --variants ...`", "",
             f"{test_root.name} ({len(list((test_root / 'input').iterdir()))} real pairs), convention {convention}; "
             f"input {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of batch 4 x 64x64 per run, memrestore/configs/memorynet/{config_name}.", "",
             *summary_lines(rows, list(VARIANTS), lambda v: "backbone (MPRNet)")]
    write_report(out, stem, results, lines)
    plot_runs(rows, list(VARIANTS), out / f"{stem}.png", f"MemoryNet ablation ({args.task}, {test_root.name})",
              ylabel=f"{test_root.name} PSNR (dB, {convention})")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
