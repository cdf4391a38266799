"""Inference speed and peak memory on large photos: whole image vs tiled, fp32 vs bf16, channels-last.

    .venv/bin/python -m benchmarks.inference [--sizes 1 4 12] [--max-memory 2GB] [--families ...] [--modes ...]

Each configuration runs in a fresh subprocess, so its peak resident memory (VmHWM, the whole
process including the Python/torch runtime) is its own. Models are randomly initialised (speed and
memory do not depend on the weights) in the sizes the recipes train. "tiled" picks the tile size from
--max-memory. Throughput is megapixels restored per second, best of --repeats, after one warm-up on a
small image. Writes inference.json and inference.md into --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from benchmarks.report import write_report

COMMAND = ".venv/bin/python -m benchmarks.inference"
FAMILIES = {
    "unet (demo, w24)": {"name": "unet", "width": 24, "depths": [2, 2], "middle": 2},
    "memorynet (cpu config)": {"name": "memorynet", "n_feat": 16, "scale_unetfeats": 8, "scale_orsnetfeats": 8, "num_cab": 2},
    "fastunet + memory (bottleneck)": {"name": "fastunet", "memories": {"bottleneck": {"kind": "hierarchical"}}},
    "fastunet-gc + memory (bottleneck)": {"name": "fastunet", "global_context": True,
                                          "memories": {"bottleneck": {"kind": "hierarchical"}}},
}
MODES = {
    "whole fp32": {},
    "tiled fp32": {"tiled": True},
    "whole bf16": {"bf16": True},
    "tiled bf16": {"tiled": True, "bf16": True},
    "whole channels-last": {"channels_last": True},
    "tiled channels-last": {"tiled": True, "channels_last": True},
}

CHILD = r"""
import json, sys, time, torch
from memrestore.bench.report import peak_resident_gib
from memrestore.models import build_model
from memrestore.inference import InferenceOptions, restore
from memrestore.inference.budget import parse_bytes
spec = json.loads(sys.argv[1])
torch.manual_seed(0)
model = build_model(**spec["model"]).eval()
side = spec["megapixels"] * 1e6
height = int((side * 3 / 4) ** 0.5); width = int(side / height)
options = InferenceOptions(bf16=spec.get("bf16", False), channels_last=spec.get("channels_last", False), overlap=32,
                           max_memory=parse_bytes(spec["max_memory"]) if spec.get("tiled") else None)
restore(model, torch.rand(1, 3, 96, 96), options)  # warm-up
x = torch.rand(1, 3, height, width)
best = float("inf")
for _ in range(spec["repeats"]):
    start = time.perf_counter(); restore(model, x, options); best = min(best, time.perf_counter() - start)
tile = None
if options.max_memory:
    from memrestore.inference.budget import tile_for_budget
    tile = tile_for_budget(model, height, width, options.max_memory, model.size_multiple, options.overlap)
print(json.dumps({"seconds": best, "mp_per_s": height * width / 1e6 / best, "tile": tile,
                  "peak_rss_gib": peak_resident_gib(), "size": f"{width}x{height}"}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 4, 12], help="megapixels")
    parser.add_argument("--max-memory", default="2GB")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--stem", default="inference", help="output file name stem")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    rows = []
    for family in args.families:
        model = FAMILIES[family]
        for mp in args.sizes:
            for mode in args.modes:
                flags = MODES[mode]
                spec = {"model": model, "megapixels": mp, "max_memory": args.max_memory, "repeats": args.repeats, **flags}
                done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True)
                if done.returncode != 0:
                    row = {"family": family, "megapixels": mp, "mode": mode, "error": done.stderr.strip().splitlines()[-1]}
                else:
                    row = {"family": family, "megapixels": mp, "mode": mode, **json.loads(done.stdout.strip().splitlines()[-1])}
                rows.append(row)
                print(row, flush=True)
    invocation = COMMAND + ("" if args.families == list(FAMILIES) and args.modes == list(MODES) and args.sizes == [1, 4, 12] else
                            f" --sizes {' '.join(f'{s:g}' for s in args.sizes)} --families {' '.join(repr(f) for f in args.families)}"
                            f" --modes {' '.join(repr(m) for m in args.modes)} --stem {args.stem}")
    lines = [f"`{invocation}` (tiled = tile size chosen from --max-memory {args.max_memory}, overlap 32; "
             "peak RSS of the whole process)", "",
             "| model | MP | mode | size | MP/s | peak RSS (GiB) | tile |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['family']} | {r['megapixels']:g} | {r['mode']} | - | failed: {r['error'][:60]} | - | - |")
        else:
            lines.append(f"| {r['family']} | {r['megapixels']:g} | {r['mode']} | {r['size']} | {r['mp_per_s']:.3f} | "
                         f"{r['peak_rss_gib']:.2f} | {r['tile'] or '-'} |")
    write_report(args.out, args.stem, {"command": COMMAND, "max_memory": args.max_memory,
                                         "cpu": platform.processor() or platform.machine(), "rows": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
