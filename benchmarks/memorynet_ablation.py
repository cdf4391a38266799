"""MemoryNet ablation on real rain: backbone / + memory / + contrastive / + both (and the released
memory placement), several seeds, one training budget.

    .venv/bin/python benchmarks/memorynet_ablation.py [--seeds 0 1 2] [--steps 600] [--out benchmarks/results]

Training pairs: light synthetic rain (``LIGHT_RAIN``) on the clean photos of ../shared/data/clean
(CBSD68 + Kodak24), 2 renderings each. Test: ../shared/data/real/derain-Rain12 (real pairs), Y channel
of MATLAB rgb2ycbcr (``y-matlab``), full images. Model: configs/memorynet/derain_cpu.yaml; every
variant trains the same number of steps on the same batches. Finished runs are kept in
memorynet_ablation.json, so an interrupted benchmark resumes where it stopped. Writes
memorynet_ablation.md and memorynet_ablation.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from memrestore.config import load_config
from memrestore.data.degrade import LIGHT_RAIN, add_rain
from memrestore.data.paired import PairedImageDataset
from memrestore.engine.evaluate import evaluate_model
from memrestore.engine.trainer import Trainer
from memrestore.io import list_images, read_image, to_float_rgb, write_image
from memrestore.io.atomic import atomic_path, atomic_write_text
from memrestore.metrics.folders import evaluate_folders, mean_row

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
COMMAND = ".venv/bin/python benchmarks/memorynet_ablation.py"
NO_CONTRASTIVE = ["train.losses=[{name: charbonnier}, {name: edge, weight: 0.05}]"]
VARIANTS = {
    "backbone (MPRNet)": ["model.memory=none", *NO_CONTRASTIVE],
    "+ memory (feature)": ["model.memory=feature", *NO_CONTRASTIVE],
    "+ contrastive": ["model.memory=none"],
    "+ memory + contrastive": ["model.memory=feature"],
    "+ memory (released placement)": ["model.memory=released", *NO_CONTRASTIVE],
}


def synthesize_training_set(root: Path, renderings: int = 2, seed: int = 0) -> Path:
    """Light rain on every clean photo (reused when already written)."""
    photos = sorted(p for folder in (SHARED / "clean").iterdir() for p in list_images(folder))
    if not photos:
        raise SystemExit(f"{SHARED / 'clean'}: no clean photos found")
    if (root / "input").is_dir() and len(list_images(root / "input")) == renderings * len(photos):
        return root
    rng = np.random.default_rng(seed)
    for photo in photos:
        clean = to_float_rgb(read_image(photo))
        for k in range(renderings):
            name = f"{photo.parent.name}_{photo.stem}_{k}.png"
            write_image(root / "target" / name, clean)
            write_image(root / "input" / name, add_rain(clean, rng, ranges=LIGHT_RAIN))
    return root


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["variant"] for r in rows))
    figure, axis = plt.subplots(figsize=(9, 4))
    for i, name in enumerate(names):
        values = [r["psnr"] for r in rows if r["variant"] == name]
        axis.scatter([i] * len(values), values, color="tab:blue")
        axis.hlines(np.mean(values), i - 0.25, i + 0.25, color="tab:red")
    axis.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    axis.set_ylabel("Rain12 PSNR (dB, Y MATLAB)")
    axis.set_title("MemoryNet ablation (dots: seeds, bar: mean)")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), help="subset of variant names")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/memorynet-ablation")
    args = parser.parse_args()
    out, work = Path(args.out), Path(args.work)
    results_path = out / "memorynet_ablation.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {"command": COMMAND, "runs": []}
    done = {(r["variant"], r["seed"], r["steps"]) for r in results["runs"]}
    train_root = synthesize_training_set(work / "data")
    rain12 = SHARED / "real" / "derain-Rain12"
    test_set = PairedImageDataset(rain12)
    base = ROOT / "configs" / "memorynet" / "derain_cpu.yaml"
    for seed in args.seeds:  # seed-major: a partial benchmark still compares every variant
        for variant in args.variants:
            if (variant, seed, args.steps) in done:
                continue
            name = f"{variant.replace(' ', '_').replace('(', '').replace(')', '').replace('+', 'p')}-s{seed}"
            config = load_config(base, [f"data.train.root={train_root}", f"output_dir={work}", f"name={name}",
                                        f"seed={seed}", f"train.iterations={args.steps}", *VARIANTS[variant]])
            start = time.perf_counter()
            trainer = Trainer(config, progress=False, overwrite=True)
            trainer.fit()
            scores = evaluate_model(trainer.model, test_set, "y-matlab")
            run = {"variant": variant, "seed": seed, "steps": args.steps, "psnr": scores["psnr"], "ssim": scores["ssim"],
                   "train_seconds": trainer.summary["seconds"], "wall_seconds": round(time.perf_counter() - start, 1)}
            results["runs"].append(run)
            atomic_write_text(results_path, json.dumps(results, indent=2) + "\n")  # never lose a finished run
            print(run, flush=True)
    baseline = mean_row(evaluate_folders(rain12 / "input", rain12 / "target", "y-matlab"))
    rows = [r for r in results["runs"] if r["steps"] == args.steps]
    lines = [f"`{COMMAND} --steps {args.steps} --seeds {' '.join(map(str, args.seeds))}`", "",
             f"Rain12 (12 real pairs), convention y-matlab; input: {baseline['psnr']:.2f} dB / {baseline['ssim']:.4f}. "
             f"{args.steps} steps of batch 4 x 64x64 per run; configs/memorynet/derain_cpu.yaml.", "",
             "| variant | seeds | PSNR (dB) | SSIM | vs backbone (dB) | train s/run |", "| --- | --- | --- | --- | --- | --- |"]
    reference = None
    for variant in VARIANTS:
        runs = [r for r in rows if r["variant"] == variant]
        if not runs:
            continue
        p, s = np.array([r["psnr"] for r in runs]), np.array([r["ssim"] for r in runs])
        reference = p.mean() if reference is None else reference
        lines.append(f"| {variant} | {len(runs)} | {p.mean():.2f} ± {p.std(ddof=1) if len(p) > 1 else 0:.2f} | "
                     f"{s.mean():.4f} ± {s.std(ddof=1) if len(s) > 1 else 0:.4f} | {p.mean() - reference:+.2f} | "
                     f"{np.mean([r['train_seconds'] for r in runs]):.0f} |")
    atomic_write_text(out / "memorynet_ablation.md", "\n".join(lines) + "\n")
    plot(rows, out / "memorynet_ablation.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
