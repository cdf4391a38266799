"""Does synthetic training data transfer to real photos? One model, one wall-clock budget, trained on
different data and scored on real pairs that none of the training data came from.

    .venv/bin/python -m benchmarks.transfer --task derain [--minutes 20] [--seeds 0] [--mixes ...] [--model NAFNet-w16]

Rain (``--task derain``), each mix rendered from the 88 clean photos of ../shared/data/clean:

* synthetic-handset: ``synth --preset light`` and ``--preset heavy`` (the hand-set ranges; the
  synthetic part of ``benchmarks.equal_time``'s rain recipe);
* synthetic-fitted: ``synth --preset jorder``, 2 renderings (ranges fitted by ``memrestore fit-preset``
  to the 20 real JORDER-small train pairs: the same real information as the ``real`` mix);
* real: the 20 real JORDER-small train pairs;
* real+fitted: both (pairs drawn uniformly, so about 10 % of the crops are real).

Scored with the Y convention on Rain12 (12 pairs, light rain rendered by another method), the 5
JORDER-small test pairs and the real webcam rain of GT-RAIN (each rainy frame against its scene's
clean frame). Training runs through ``benchmarks.equal_time.run_one`` (same recipe); the first run
of the model is calibrated to ``--minutes`` and every other mix trains the same number of steps (one
model: equal steps are equal time, without a second calibration's noise, which read the same model
47 % apart on two runs). Paired differences are against the ``real`` mix. Writes transfer_TASK.{json,md,png};
finished runs are kept, so an interrupted call resumes.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import numpy as np

from benchmarks import equal_time
from benchmarks.report import SHARED, write_report
from memrestore.bench.report import difference_rows, plot_curves

COMMAND = ".venv/bin/python -m benchmarks.transfer"
REAL = SHARED / "real"
MIXES = ("synthetic-handset", "synthetic-fitted", "real", "real+fitted")
REFERENCE = "real"


def training_folder(mix: str, work: Path) -> Path:
    """The training pairs of ``mix`` (rendered and linked on first use)."""
    data, folder = work / "data", work / "data" / mix
    jorder = REAL / "derain-JORDER-small"
    parts = {"synthetic-handset": [("light", 1), ("heavy", 1)], "synthetic-fitted": [("jorder", 2)],
             "real": [], "real+fitted": [("jorder", 2)]}[mix]
    for preset, renderings in parts:
        equal_time.link_synthetic("derain", preset, renderings, data, folder)
    if mix.startswith("real"):
        equal_time.link_pairs(jorder, sorted(p.name for p in (jorder / "input").glob("train-*")), folder)
    return folder


def test_sets(work: Path) -> dict[str, Path]:
    _, tests, _ = equal_time.test_sets("derain", work)
    return {**tests, "GT-RAIN": REAL / "timelapse-GTRAIN"}


def report(results: dict, minutes: float, seeds: list[int], mixes: list[str], tests: dict[str, Path], model: str,
           out: Path) -> None:
    runs = [r for r in results["runs"] if r["minutes"] == minutes and r["seed"] in seeds and r["mix"] in mixes
            and r["model"] == model]
    present = [m for m in mixes if any(r["mix"] == m for r in runs)]
    inputs = {name: equal_time.per_image_input(root, "y-matlab") for name, root in tests.items()}
    command = (f"{COMMAND} --task derain --minutes {minutes:g} --seeds {' '.join(map(str, seeds))} "
               f"--model {shlex.quote(model)} --mixes {' '.join(mixes)}")
    lines = [f"`{command}` ({model}, equal training time per run, validation excluded; recipe of "
             "`benchmarks.equal_time`: batch 4 x 96x96, L1, AdamW 1e-3, cosine; Y of MATLAB rgb2ycbcr)", "",
             "| training data | seeds | steps | train min | " + " | ".join(f"{n} PSNR (gain)" for n in tests) + " |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in tests) + " |",
             "| (input) | - | - | - | " + " | ".join(f"{np.mean(v):.2f}" for v in inputs.values()) + " |"]
    for mix in present:
        mine = [r for r in runs if r["mix"] == mix]
        cells = []
        for name in tests:
            means = np.array([np.mean(r["scores"][name]) for r in mine])
            spread = means.std(ddof=1) if len(means) > 1 else 0.0
            cells.append(f"{means.mean():.2f} ± {spread:.2f} ({means.mean() - np.mean(inputs[name]):+.2f})")
        lines.append(f"| {mix} | {len(mine)} | {int(np.mean([r['steps'] for r in mine]))} | "
                     f"{np.mean([r['train_seconds'] for r in mine]) / 60:.1f} | " + " | ".join(cells) + " |")
    lines += ["", f"Paired differences to `{REFERENCE}` (dB, mean [95 % interval]): per test image, seeds pooled; "
              "and per seed.", "", "| training data | test set | per image | per seed |", "| --- | --- | --- | --- |"]
    lines += [row for mix in present if mix != REFERENCE
              for row in difference_rows(runs, tests, mix, REFERENCE, mix, key="mix")]
    lines += ["", "Per run: CPU share near 1 means the run had the cores to itself.", "",
              "| seed | training data | steps | train min | CPU share | machine |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['seed']} | {r['mix']} | {r['steps']} | {r['train_seconds'] / 60:.1f} | {r['cpu_share']} | {r['machine']} |"
              for r in sorted(runs, key=lambda r: (r["seed"], mixes.index(r["mix"])))]
    write_report(out, "transfer_derain", results, lines)
    plot_curves(runs, present, out / "transfer_derain.png", "derain: Rain12 PSNR over training time, by training data",
                key="mix")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="derain", choices=["derain"])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--mixes", nargs="+", default=list(MIXES), choices=MIXES)
    parser.add_argument("--model", default="NAFNet-w16", choices=list(equal_time.MODELS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/transfer-derain")
    args = parser.parse_args()
    out, work = Path(args.out), Path(args.work)
    tests = test_sets(work)
    path = out / "transfer_derain.json"
    results = json.loads(path.read_text()) if path.is_file() else {"command": COMMAND, "runs": []}
    for seed in args.seeds:
        for mix in args.mixes:
            if any(r["mix"] == mix and r["seed"] == seed and r["minutes"] == args.minutes and r["model"] == args.model
                   for r in results["runs"]):
                continue
            done = [r for r in results["runs"] if r["model"] == args.model and r["minutes"] == args.minutes]
            run = equal_time.run_one(args.model, seed, args.minutes, 0.0, training_folder(mix, work),
                                     REAL / "derain-Rain12", tests, "y-matlab", work / mix,
                                     steps=done[0]["steps"] if done else None)
            results["runs"].append({**run, "mix": mix, "minutes": args.minutes})
            write_report(out, "transfer_derain", results, ["(in progress)"])  # never lose a finished run
    report(results, args.minutes, args.seeds, args.mixes, tests, args.model, out)


if __name__ == "__main__":
    main()
