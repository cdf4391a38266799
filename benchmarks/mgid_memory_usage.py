"""Do rain regions read different MGID memory items than background? Measured on real rain (Rain12).

    .venv/bin/python -m benchmarks.mgid_memory_usage --suite benchmarks/suites/mgid_ablation.yaml
    .venv/bin/python -m benchmarks.mgid_memory_usage --suite benchmarks/suites/mgid_timelapse_real.yaml

For every run of a method with an item memory in a `memrestore bench quality` suite (its runs under
``--work``), every Rain12 image is restored and the memory's addressing weights (one row per
bottleneck cell, 1/4 resolution) are split by where the rain is: a pixel is rain where the rainy
input exceeds the clean target by more than 0.03 (mean over RGB); a cell is a rain cell when >= 20 %
of its pixels are rain, a background cell when none is. Reported: the total-variation distance
between the item-usage distributions (mean addressing weight per item, and arg-max item) of rain and
background cells (0: the same items, 1: disjoint items), pooled over the 12 images. Writes
mgid_memory_usage_SUITE.{json,md} and, for the first run, the PNG of the same name (the inspection
figure: input, arg-max item map, usage histogram). An analysis of a suite's trained runs, not a
comparison, so it stays a script beside the suites.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.report import SHARED, write_report

from memrestore.api import load_model
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.inspect_memory import memory_maps, save_memory_figure

COMMAND = ".venv/bin/python -m benchmarks.mgid_memory_usage"

RAIN12 = SHARED / "real" / "derain-Rain12"


@torch.no_grad()
def usage_split(model: torch.nn.Module, dataset: PairedImageDataset) -> tuple[np.ndarray, ...]:
    """Summed addressing weights per item over rain cells and over background cells, the same for
    arg-max (one-hot) addressing, and how many items are the arg-max of at least one cell."""
    rain_use, background_use, rain_top, background_top, winners = 0.0, 0.0, 0.0, 0.0, set()
    for i in range(len(dataset)):
        item = dataset[i]
        model(item["input"][None])
        weights = model.memory_readouts()["bottleneck"].weights["items"][0]  # (h, w, K), padded bottleneck grid
        rain = ((item["input"] - item["target"]).mean(dim=0) > 0.03).float()
        h, w = weights.shape[:2]
        cell = model.size_multiple  # the model pads at the bottom/right to (h, w) * cell
        padded = F.pad(rain, (0, w * cell - rain.shape[1], 0, h * cell - rain.shape[0]))
        fraction = F.avg_pool2d(padded[None, None], cell)[0, 0]
        nearest = weights.argmax(dim=-1)
        top = F.one_hot(nearest, weights.shape[-1]).float()
        rain_use = rain_use + weights[fraction >= 0.2].sum(dim=0).numpy()
        background_use = background_use + weights[fraction == 0].sum(dim=0).numpy()
        rain_top = rain_top + top[fraction >= 0.2].sum(dim=0).numpy()
        background_top = background_top + top[fraction == 0].sum(dim=0).numpy()
        winners.update(nearest.unique().tolist())
    return (np.asarray(rain_use), np.asarray(background_use), np.asarray(rain_top), np.asarray(background_top),
            len(winners))


def tv_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two usage histograms, each normalised to sum to 1."""
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def checkpoints(suite_path: str, work: str | None) -> tuple[str, dict[tuple[str, int], Path]]:
    """(report name, {(method, seed): checkpoint}) of a suite's runs."""
    from memrestore.bench.quality import run_folder
    from memrestore.bench.suite import load_suite

    suite = load_suite(suite_path)
    folder = Path(work or Path("runs") / "bench" / suite.name)
    return f"mgid_memory_usage_{suite.name}", {(method, seed): run_folder(suite, method, seed, folder) / "model.safetensors"
                                               for method in suite.methods for seed in suite.seeds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, help="a bench quality suite: its methods with an item memory")
    parser.add_argument("--work", help="the suite's run folders (default runs/bench/<suite name>)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    dataset = PairedImageDataset.from_folder(RAIN12)
    name, paths = checkpoints(args.suite, args.work)
    rows, figure_done = [], False
    for (variant, seed), path in paths.items():
        if not path.is_file():
            continue
        model, _, _ = load_model(path)
        if getattr(model, "memory", None) is None:
            continue  # no item memory (a suite's no-memory baseline)
        model.eval()
        rain, background, rain_top, background_top, used = usage_split(model, dataset)
        p, q = rain / rain.sum(), background / background.sum()
        rows.append({"variant": variant, "seed": seed, "tv_distance": tv_distance(rain, background),
                     "tv_distance_argmax": tv_distance(rain_top, background_top),
                     "items_used": used, "items": int(p.size),
                     "rain_usage": p.round(4).tolist(), "background_usage": q.round(4).tolist(),
                     "rain_top_item": int(p.argmax()), "background_top_item": int(q.argmax())})
        if not figure_done:
            image = dataset[0]["input"].numpy().transpose(1, 2, 0)
            save_memory_figure(image, memory_maps(model, image), Path(args.out) / f"{name}.png",
                               title=f"MGID ({variant}, seed {seed}) on Rain12 {dataset.pairs[0].name}")
            figure_done = True
    command = f"{COMMAND} --suite {args.suite}"
    lines = [f"`{command}`", "",
             "Total-variation distance between memory-item usage in rain cells and in background cells of "
             "Rain12 (0 = same items, 1 = disjoint), by addressing weight and by arg-max item; top item of "
             "each; how many of the items win any cell.", "",
             "| variant | seed | TV distance (weights) | TV distance (arg-max) | top item (rain) | top item (background) "
             "| items ever arg-max |", "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['variant']} | {r['seed']} | {r['tv_distance']:.3f} | {r['tv_distance_argmax']:.3f} | "
              f"{r['rain_top_item']} | {r['background_top_item']} | {r['items_used']} of {r['items']} |" for r in rows]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        values = [(r["tv_distance"], r["tv_distance_argmax"]) for r in rows if r["variant"] == variant]
        lines.append(f"| {variant} | mean | {np.mean([v[0] for v in values]):.3f} | "
                     f"{np.mean([v[1] for v in values]):.3f} | | | |")
    write_report(args.out, name, {"command": command, "runs": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
