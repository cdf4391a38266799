"""What MCLIR's SPN term costs per training step, and how much applying it on every k-th step saves.

    .venv/bin/python -m benchmarks.spn_cost [--every 1 2 4 8 16] [--rounds 3] [--threads 2]

The fast memory network's rain recipe (``fastunet/derain_cpu``: batch 4 x 96x96, L1, AdamW) on the 20
real JORDER-small train pairs, SPN on from the first step (``start: 0``), four negatives as
published. Variants: no SPN; the VGG16 ImageNet feature space
(../shared/weights, MCLIR's relu1_2/relu2_2/relu3_3) applied every k steps; the fixed random network
every step, for comparison. Steps/s by ``memrestore.bench.quality``'s differential timing (32 steps,
so every k of 1-32 dividing 32 applies the term the same share of the timed steps), every
variant once per round, rounds interleaved, median kept; ratios to no SPN within the run. Writes
spn_cost.{json,md}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.report import ROOT, SHARED, write_report
from memrestore.bench.quality import steps_per_second
from memrestore.bench.report import machine
from memrestore.recipes import load_config

COMMAND = ".venv/bin/python -m benchmarks.spn_cost"
VGG16 = ROOT.parent / "shared" / "weights" / "vgg16_imagenet_features.safetensors"


def variants(every: list[int]) -> dict[str, list[str]]:
    spn = ["model.spn.enabled=true", "model.spn.start=0.0"]
    vgg = [*spn, "model.spn.features=vgg16", f"model.spn.feature_weights={VGG16}"]
    return {"no SPN": [], **{f"SPN, VGG16, every {k}": [*vgg, f"model.spn.every={k}"] for k in every},
            "SPN, random features, every 1": spn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--work", default="runs/spn-cost")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chosen = variants(args.every)
    data = SHARED / "real" / "derain-JORDER-small"
    rates: dict[str, list[float]] = {name: [] for name in chosen}
    for round_ in range(args.rounds):
        for name, overrides in chosen.items():
            config = load_config("fastunet/derain_cpu", [*overrides, f"data.train.root={data}", "train.samples=0",
                                                         f"output_dir={args.work}", "name=timing"])
            rates[name].append(steps_per_second(config, warmup=10, steps=32, repeats=1))  # 32: a multiple of every k
            print(f"round {round_ + 1}: {name}: {rates[name][-1]:.2f} steps/s", flush=True)
    plain = np.median(rates["no SPN"])
    command = f"{COMMAND} --every {' '.join(map(str, args.every))} --rounds {args.rounds} --threads {args.threads}"
    lines = [f"`{command}` (fast memory network, fastunet/derain_cpu: batch 4 x 96x96; SPN from the first step, "
             f"four negatives; {args.threads} threads; median of {args.rounds} interleaved rounds; {machine()})", "",
             "| variant | train steps/s | step time vs no SPN |", "| --- | --- | --- |"]
    for name, values in rates.items():
        lines.append(f"| {name} | {np.median(values):.2f} | {plain / np.median(values):.2f}x |")
    write_report(Path(args.out), "spn_cost", {"command": command, "machine": machine(), "steps_per_s": rates}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
