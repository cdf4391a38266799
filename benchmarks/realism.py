"""Synthetic realism: input-PSNR distribution of each synthetic set beside the matching real set.

    .venv/bin/python -m benchmarks.realism [--seed 0] [--out benchmarks/results]

For derain (preset light), raindrop, dehaze (preset sots) and deblur, ``memrestore synth`` is run on
every clean photo of ../shared/data/clean (CBSD68 + Kodak24, 92 photos, one rendering each) into
--work, and PSNR(input, target) is measured per pair, RGB and Y (MATLAB rgb2ycbcr), beside the same
numbers for the real pairs in ../shared/data/real. A synthetic set far easier or harder than its real
counterpart trains a model for the wrong conditions. Writes realism.{json,md,png}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.report import SHARED, write_report

from memrestore.data.synth import synthesize_pairs
from memrestore.metrics.folders import evaluate_folders

COMMAND = ".venv/bin/python -m benchmarks.realism"
TASKS = {  # task -> (synth preset, real set)
    "derain": ("light", "derain-Rain12"),
    "raindrop": (None, "raindrop"),
    "dehaze": ("sots", "dehaze-SOTS-indoor"),
    "deblur": (None, "deblur-GoPro"),
}


def input_psnr(root: Path, convention: str) -> list[float]:
    return [row["psnr"] for row in evaluate_folders(root / "input", root / "target", convention)]


def stats(values: list[float]) -> dict:
    v = np.asarray(values)
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
            "median": float(np.median(v)), "max": float(v.max()), "values": [round(float(x), 3) for x in v]}


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(data), figsize=(4 * len(data), 3.2))
    for ax, (task, entry) in zip(axes, data.items()):
        synthetic, real = entry["synthetic"]["rgb"]["values"], entry["real"]["rgb"]["values"]
        ax.hist(synthetic, bins=15, alpha=0.6, density=True, label=f"synthetic (n={len(synthetic)})")
        for x in real:
            ax.axvline(x, color="crimson", alpha=0.5, lw=1)
        ax.plot([], [], color="crimson", label=f"real (n={len(real)})")
        ax.set_title(task)
        ax.set_xlabel("input PSNR, RGB (dB)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/realism")
    args = parser.parse_args()
    data, lines = {}, [f"`{COMMAND} --seed {args.seed}`", "",
                       "Input PSNR (dB) of degraded vs clean, per pair: mean ± std [min, median, max]. Synthetic: "
                       "`memrestore synth` on the 92 clean photos of ../shared/data/clean; real: ../shared/data/real.", "",
                       "| task | synth preset | set | pairs | RGB | Y (y-matlab) |", "|---|---|---|---:|---|---|"]
    fmt = lambda s: f"{s['mean']:.2f} ± {s['std']:.2f} [{s['min']:.1f}, {s['median']:.1f}, {s['max']:.1f}]"
    for task, (preset, real_name) in TASKS.items():
        synthetic_root = Path(args.work) / task
        synthesize_pairs(SHARED / "clean", synthetic_root, task, preset, seed=args.seed)
        entry = {}
        for label, root in (("synthetic", synthetic_root), ("real", SHARED / "real" / real_name)):
            entry[label] = {conv: stats(input_psnr(root, conv)) for conv in ("rgb", "y-matlab")}
            name = "synthetic" if label == "synthetic" else real_name
            lines.append(f"| {task} | {preset or 'default'} | {name} | {entry[label]['rgb']['n']} | "
                         f"{fmt(entry[label]['rgb'])} | {fmt(entry[label]['y-matlab'])} |")
        data[task] = entry
    write_report(args.out, "realism", {"command": COMMAND, "seed": args.seed, "tasks": data}, lines)
    plot(data, Path(args.out) / "realism.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
