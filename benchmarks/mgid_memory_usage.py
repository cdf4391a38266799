"""Do rain regions read different MGID memory items than background? Measured on real rain (Rain12).

    .venv/bin/python -m benchmarks.mgid_memory_usage [--runs runs/mgid-ablation] [--seeds 0 1 2]

For each trained MGID run of benchmarks/mgid_ablation.py ("memory", "memory + BSW"), every Rain12
image is restored and the memory's addressing weights (one row per bottleneck cell, 1/4 resolution)
are split by where the rain is: a pixel is rain where the rainy input exceeds the clean target by
more than 0.03 (mean over RGB); a cell is a rain cell when >= 20 % of its pixels are rain, a
background cell when none is. Reported: the total-variation distance between the item-usage
distributions (mean addressing weight per item) of rain and background cells (0: the same items,
1: disjoint items), pooled over the 12 images. Writes mgid_memory_usage.{json,md} and, for the first
run, mgid_memory_usage.png (the inspection figure: input, arg-max item map, usage histogram).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.rain12 import RAIN12
from benchmarks.report import write_report

from memrestore.api import load_model
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.inspect_memory import memory_maps, save_memory_figure

COMMAND = ".venv/bin/python -m benchmarks.mgid_memory_usage"
VARIANTS = {  # ablation variant -> run-folder slug (benchmarks/rain12.py)
    "memory": "memory", "memory + BSW": "memory___BSW",
    "memory, items from first queries": "memory__items_from_first_queries",
    "memory + BSW, items from first queries": "memory___BSW__items_from_first_queries",
}


@torch.no_grad()
def usage_split(model: torch.nn.Module, dataset: PairedImageDataset) -> tuple[np.ndarray, np.ndarray, int]:
    """Summed addressing weights per item over rain cells and over background cells, and how many
    items are the arg-max of at least one cell."""
    rain_use, background_use, winners = 0.0, 0.0, set()
    for i in range(len(dataset)):
        item = dataset[i]
        model(item["input"][None])
        weights = model.last_readout.weights["items"][0]  # (h, w, K) on the padded bottleneck grid
        rain = ((item["input"] - item["target"]).mean(dim=0) > 0.03).float()
        h, w = weights.shape[:2]
        cell = model.size_multiple  # the model pads at the bottom/right to (h, w) * cell
        padded = F.pad(rain, (0, w * cell - rain.shape[1], 0, h * cell - rain.shape[0]))
        fraction = F.avg_pool2d(padded[None, None], cell)[0, 0]
        rain_use = rain_use + weights[fraction >= 0.2].sum(dim=0).numpy()
        background_use = background_use + weights[fraction == 0].sum(dim=0).numpy()
        winners.update(weights.argmax(dim=-1).unique().tolist())
    return np.asarray(rain_use), np.asarray(background_use), len(winners)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/mgid-ablation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    dataset = PairedImageDataset.from_folder(RAIN12)
    rows, figure_done = [], False
    for variant, slug in VARIANTS.items():
        for seed in args.seeds:
            path = Path(args.runs) / f"{slug}-s{seed}" / "model.safetensors"
            if not path.is_file():
                continue
            model, _, _ = load_model(path)
            model.eval()
            rain, background, used = usage_split(model, dataset)
            p, q = rain / rain.sum(), background / background.sum()
            rows.append({"variant": variant, "seed": seed, "tv_distance": float(0.5 * np.abs(p - q).sum()),
                         "items_used": used, "items": int(p.size),
                         "rain_usage": p.round(4).tolist(), "background_usage": q.round(4).tolist(),
                         "rain_top_item": int(p.argmax()), "background_top_item": int(q.argmax())})
            if not figure_done:
                image = dataset[0]["input"].numpy().transpose(1, 2, 0)
                save_memory_figure(image, memory_maps(model, image), Path(args.out) / "mgid_memory_usage.png",
                                   title=f"MGID ({variant}, seed {seed}) on Rain12 {dataset.pairs[0].name}")
                figure_done = True
    lines = [f"`{COMMAND} --seeds {' '.join(map(str, args.seeds))}`", "",
             "Total-variation distance between memory-item usage in rain cells and in background cells of "
             "Rain12 (0 = same items, 1 = disjoint); top item of each; how many of the items win any cell.", "",
             "| variant | seed | TV distance | top item (rain) | top item (background) | items ever arg-max |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['variant']} | {r['seed']} | {r['tv_distance']:.3f} | {r['rain_top_item']} | {r['background_top_item']} | "
              f"{r['items_used']} of {r['items']} |" for r in rows]
    for variant in VARIANTS:
        values = [r["tv_distance"] for r in rows if r["variant"] == variant]
        if values:
            lines.append(f"| {variant} | mean | {np.mean(values):.3f} | | | |")
    write_report(args.out, "mgid_memory_usage", {"command": COMMAND, "runs": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
