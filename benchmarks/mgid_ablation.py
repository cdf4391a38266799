"""MGID ablation on real rain: no memory / memory / memory + BSW, trained on synthetic time-lapse.

    .venv/bin/python -m benchmarks.mgid_ablation [--seeds 0 1 2] [--steps 400] [--variants ...]

Training data: ``memrestore synth --task timelapse --preset light --frames 8`` on the 92 clean photos
of ../shared/data/clean (92 static scenes x 8 rainy frames, independent rain per frame, +-4 %
illumination drift); every frame is supervised by its scene's pseudo-clean background (25th
percentile over the 8 frames), never by the clean photo. Test: Rain12, Y (MATLAB), full images
(benchmarks/rain12.py). Model: memrestore/configs/mgid/derain_timelapse_cpu.yaml. Writes mgid_ablation.{json,md,png}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.rain12 import input_baseline, plot_runs, run_grid, summary_lines
from benchmarks.report import SHARED, write_report

from memrestore.data.synth import synthesize_pairs

COMMAND = ".venv/bin/python -m benchmarks.mgid_ablation"
CONFIG = "mgid/derain_timelapse_cpu"
MNAD = "model.memory_restart=0"  # MNAD's update alone, as the first variants were measured
VARIANTS = {
    "no memory (U-Net)": (CONFIG, ["model.memory_items=0", "model.bsw=0"]),
    "memory": (CONFIG, ["model.bsw=0", MNAD]),
    "memory + BSW": (CONFIG, [MNAD]),
    "memory, clean-frame target": (CONFIG, ["model.bsw=0", "data.train.background=clean", MNAD]),
    "memory, items from first queries": (CONFIG, ["model.bsw=0", "model.memory_init=queries", MNAD]),
    "memory + BSW, items from first queries": (CONFIG, ["model.memory_init=queries", MNAD]),
    "memory, idle items restarted": (CONFIG, ["model.bsw=0", "model.memory_restart=20"]),
    "memory + BSW, idle items restarted": (CONFIG, ["model.memory_restart=20"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS)[:3], choices=list(VARIANTS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/mgid-ablation")
    parser.add_argument("--report-only", action="store_true", help="summarise the finished runs, train nothing")
    args = parser.parse_args()
    out, work = Path(args.out), Path(args.work)
    chosen = {} if args.report_only else {v: VARIANTS[v] for v in args.variants}
    train_root = work / "timelapse"
    if chosen:
        synthesize_pairs(SHARED / "clean", train_root, "timelapse", "light", frames=8, seed=0)
    results, rows = run_grid(out / "mgid_ablation.json", work, chosen, args.seeds, args.steps, COMMAND, train_root)
    baseline = input_baseline()
    lines = [f"`{COMMAND} --steps {args.steps} --seeds {' '.join(map(str, args.seeds))} --variants ...`", "",
             f"Rain12 (12 real pairs), convention y-matlab; input {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of 2 scenes x 4 frames x 64x64 per run, memrestore/configs/mgid/derain_timelapse_cpu.yaml; "
             "trained on synthetic time-lapse (92 scenes x 8 frames) with pseudo-clean (25th percentile) targets.", "",
             *summary_lines(rows, list(VARIANTS), lambda v: "no memory (U-Net)")]
    write_report(out, "mgid_ablation", results, lines)
    plot_runs(rows, list(VARIANTS), out / "mgid_ablation.png", "MGID ablation on Rain12")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
