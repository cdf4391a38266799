"""Does the haze renderer's pseudo-depth look like real depth? Ramp against depth that follows objects.

    .venv/bin/python -m benchmarks.haze_depth [--match '140*_10.png'] [--out benchmarks/results]

On the real SOTS-indoor pairs whose input matches ``--match`` (by default the haze-fitted scenes
1400-1409, heavier level; the transfer suites' test scenes 1410-1424 stay unseen), the measured
optical depth -log t of each pair (``haze_fit.transmission`` at the fitted airlight, median-filtered
over 5 px) beside the renderer's pseudo-depth of the same clean photo for each ``objects`` weight
(``haze.pseudo_depth``; 0 is the smooth ramp alone): Pearson correlation of the depths (does the
trend match?) and of their gradient magnitudes (do the edges lie where real depth jumps?), over the
pixels whose transmission is measurable. Writes haze_depth.{json,md,png}; the PNG shows, per scene,
the clean photo, the measured depth and the rendered depths.
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path

import cv2
import numpy as np

from benchmarks.report import SHARED, write_report

from memrestore.data.degrade.haze import pseudo_depth
from memrestore.data.degrade.haze_fit import estimate_airlight, transmission
from memrestore.io import read_image, to_float_rgb, write_image

COMMAND = ".venv/bin/python -m benchmarks.haze_depth"
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
SHOWN = 4  # scenes in the PNG


def gradient(depth: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(depth, cv2.CV_32F, 1, 0), cv2.Sobel(depth, cv2.CV_32F, 0, 1))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def grey_tile(depth: np.ndarray) -> np.ndarray:
    low, high = np.quantile(depth, [0.02, 0.98])
    return np.repeat(np.clip((depth - low) / max(high - low, 1e-6), 0, 1)[..., None], 3, axis=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", default="140*_10.png", help="input names of the SOTS-indoor pairs to use")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    root = SHARED / "real" / "dehaze-SOTS-indoor"
    names = sorted(p.name for p in (root / "input").iterdir() if fnmatch.fnmatch(p.name, args.match))
    if not names:
        raise SystemExit(f"{root / 'input'}: no inputs match {args.match!r}")
    scores = {w: {"depth": [], "gradient": []} for w in WEIGHTS}
    rows = []
    for index, name in enumerate(names):
        hazy, clean = (to_float_rgb(read_image(root / part / name)) for part in ("input", "target"))
        t, measured = transmission(hazy, clean, estimate_airlight(hazy, clean)[0])
        real = cv2.medianBlur(-np.log(np.clip(t, 1e-3, 1.0)).astype(np.float32), 5)
        tiles = [clean, grey_tile(real)]
        for weight in WEIGHTS:
            rendered = pseudo_depth(clean, np.random.default_rng(index), objects=weight)
            scores[weight]["depth"].append(correlation(real[measured], rendered[measured]))
            scores[weight]["gradient"].append(correlation(gradient(real)[measured], gradient(rendered)[measured]))
            if weight in (0.0, 0.5):
                tiles.append(grey_tile(rendered))
        if index < SHOWN:  # at half size: the PNG is for looking at
            rows.append(cv2.resize(np.concatenate(tiles, axis=1), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    lines = [f"`{COMMAND} --match '{args.match}'`", "",
             f"{len(names)} SOTS-indoor pairs (inputs matching `{args.match}`): Pearson correlation with the measured "
             "optical depth -log t, mean ± std over pairs. PNG columns: clean, measured, objects 0, objects 0.5.", "",
             "| objects weight | depth | depth gradient |", "|---:|---|---|"]
    summary = {}
    for weight, entry in scores.items():
        summary[str(weight)] = {key: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": [round(x, 4) for x in v]}
                                for key, v in entry.items()}
        lines.append(f"| {weight:g} | {np.mean(entry['depth']):.3f} ± {np.std(entry['depth']):.3f} | "
                     f"{np.mean(entry['gradient']):.3f} ± {np.std(entry['gradient']):.3f} |")
    write_report(args.out, "haze_depth", {"command": COMMAND, "match": args.match, "pairs": names,
                                          "weights": summary}, lines)
    write_image(Path(args.out) / "haze_depth.png", np.concatenate(rows, axis=0))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
