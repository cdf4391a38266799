"""Pseudo-clean background of a time-lapse scene: which per-pixel estimate is closest to the truth.

    .venv/bin/python -m benchmarks.timelapse_background [--frames 8] [--noise 0.02]

On ``memrestore synth --task timelapse --preset light`` sequences of the 92 clean photos of
../shared/data/clean (the MGID ablation's training data), PSNR (RGB) of each estimate against the clean
photo: one rainy frame, the temporal median, low percentiles, the minimum; without and with Gaussian
sensor noise of sigma ``--noise`` added to every frame (real sequences are noisy; order statistics near
the minimum are biased dark by noise). This is the choice behind ``data.train.background`` (default
``percentile``, 25). Writes timelapse_background.{json,md}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.report import SHARED, write_report

from memrestore.data.synth import synthesize_pairs
from memrestore.data.timelapse_dataset import estimate_background, read_timelapse
from memrestore.io import read_image, to_float_rgb
from memrestore.metrics import psnr

COMMAND = ".venv/bin/python -m benchmarks.timelapse_background"
ESTIMATES = {
    "one rainy frame": lambda frames: frames[0],
    "median": lambda frames: estimate_background(frames, "median"),
    "25th percentile (default)": lambda frames: estimate_background(frames, "percentile", 25.0),
    "10th percentile": lambda frames: estimate_background(frames, "percentile", 10.0),
    "minimum": lambda frames: frames.min(axis=0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--noise", type=float, default=0.02, help="sensor-noise sigma of the second column")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/mgid-ablation/timelapse")
    args = parser.parse_args()
    work = Path(args.work)
    synthesize_pairs(SHARED / "clean", work, "timelapse", "light", frames=args.frames, seed=0)
    rng = np.random.default_rng(0)
    scores: dict[str, dict[str, list[float]]] = {name: {"clean": [], "noisy": []} for name in ESTIMATES}
    for scene in tqdm(read_timelapse(str(work)), desc="scenes"):
        frames = np.stack([to_float_rgb(read_image(p)) for p in scene.frames])
        noisy = np.clip(frames + rng.normal(0, args.noise, frames.shape).astype(np.float32), 0, 1)
        clean = to_float_rgb(read_image(scene.clean))
        for name, estimate in ESTIMATES.items():
            scores[name]["clean"].append(psnr(estimate(frames), clean, convention="rgb"))
            scores[name]["noisy"].append(psnr(estimate(noisy), clean, convention="rgb"))
    lines = [f"`{COMMAND} --frames {args.frames} --noise {args.noise}`", "",
             f"{len(scores['median']['clean'])} synthetic scenes x {args.frames} frames (light rain, +-4 % illumination "
             "drift); PSNR (dB, RGB) of the estimate vs the clean photo, mean ± std.", "",
             f"| estimate | noise-free frames | frames + noise sigma {args.noise} |", "| --- | --- | --- |"]
    lines += [f"| {name} | {np.mean(v['clean']):.2f} ± {np.std(v['clean']):.2f} | {np.mean(v['noisy']):.2f} ± "
              f"{np.std(v['noisy']):.2f} |" for name, v in scores.items()]
    write_report(args.out, "timelapse_background", {"command": COMMAND, "frames": args.frames, "noise": args.noise,
                 "psnr": {k: {c: [round(x, 3) for x in v] for c, v in d.items()} for k, d in scores.items()}}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
