"""Whole models side by side on this CPU: inference and training speed as ratios to NAFNet-w16.

    .venv/bin/python -m benchmarks.model_speed [--rounds 3] [--out benchmarks/results]

Each model gets random weights; inference restores one 512 x 512 image (fp32, no gradients; also
1, 4 and 12 megapixels with --sizes, to show how cost grows with size) and a training step is
forward + L1 + backward + Adam on a batch of 4 x 96 x 96 crops. Models are timed in one process,
interleaved over --rounds rounds (median kept), 2 threads; the ratio column (to the first model) is
the figure to compare, the absolute numbers drift by up to 1.5x on this machine. The target of the
fast-memory-network issue is >= 2x NAFNet-w16 on both measures.
Writes model_speed.json / .md into --out.
"""

from __future__ import annotations

import argparse
import platform
from typing import Callable

import torch

from memrestore.recipes import load_config
from memrestore.bench.speed import inference_timer, interleaved, training_timer
from memrestore.models import build_model
from memrestore.models.complexity import count_macs, count_parameters
from benchmarks.report import write_report

COMMAND = ".venv/bin/python -m benchmarks.model_speed"
MODELS: dict[str, Callable[[], torch.nn.Module]] = {
    "NAFNet width 16, enc [1,1,1,8] (spandrel)": lambda: build_model("nafnet", width=16, enc_blk_nums=[1, 1, 1, 8]),
    "memrestore U-Net width 24 (demo)": lambda: build_model("unet", width=24, depths=[2, 2], middle=2),
    "memrestore MemoryNet (memrestore/configs/memorynet/derain_cpu.yaml)": lambda: _from_config("memorynet/derain_cpu"),
    "memrestore MGID (default)": lambda: build_model("mgid"),
    "memrestore FastUNet (backbone)": lambda: build_model("fastunet"),
    "FastUNet + hierarchical memory at bottleneck (no global context)": lambda: build_model(
        "fastunet", memories={"bottleneck": {"kind": "hierarchical"}}),
    "FastUNet-GC (backbone)": lambda: build_model("fastunet", global_context=True),
    "FastUNet-GC + hierarchical memory at bottleneck (the fast memory network)": lambda: build_model(
        "fastunet", global_context=True, memories={"bottleneck": {"kind": "hierarchical"}}),
    "FastUNet middle 4 + global context + hierarchical memory at bottleneck": lambda: build_model(
        "fastunet", middle=4, global_context=True, memories={"bottleneck": {"kind": "hierarchical"}}),
    "FastUNet width 40 + global context + hierarchical memory at bottleneck": lambda: build_model(
        "fastunet", width=40, global_context=True, memories={"bottleneck": {"kind": "hierarchical"}}),
    "FastUNet + item memory at bottleneck": lambda: build_model("fastunet", memories={"bottleneck": {"kind": "items"}}),
    "FastUNet + hierarchical memory at encoder2": lambda: build_model("fastunet", memories={"encoder2": {"kind": "hierarchical"}}),
    "FastUNet + hierarchical memory at input": lambda: build_model("fastunet", memories={"input": {"kind": "hierarchical"}}),
}
VARIANTS = {"fp32": (False, False), "bf16 autocast": (True, False), "channels-last": (False, True)}


def _from_config(relative: str) -> torch.nn.Module:
    model = load_config(relative).model
    return build_model(model.name, **model.options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="training steps per round (median kept)")
    parser.add_argument("--sizes", type=float, nargs="*", default=[], help="extra inference sizes in megapixels")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--variants", nargs="+", default=["fp32"], choices=list(VARIANTS),
                        help="fp32 and/or bf16 autocast / channels-last versions of every model")
    parser.add_argument("--stem", default="model_speed", help="output file name")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    torch.set_num_threads(2)
    sizes = [0.262144, *args.sizes]  # 512 x 512 first
    models, timers = {}, {}
    for base in args.models:
        for variant in args.variants:
            name = base if variant == "fp32" else f"{base}, {variant}"
            bf16, channels_last = VARIANTS[variant]
            torch.manual_seed(0)
            models[name] = MODELS[base]().to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
            timers[(name, "train")] = training_timer(models[name], bf16, channels_last)
            for size in sizes:
                timers[(name, size)] = inference_timer(models[name], size, bf16, channels_last)
    seconds = interleaved(timers, args.rounds, args.steps)
    rows = []
    for name, model in models.items():
        row = {"model": name, "params_m": round(count_parameters(model) / 1e6, 3),
               "gmacs_256": round(count_macs(model) / 1e9, 2),
               "train_steps_per_s": round(1 / seconds[(name, "train")], 2)}
        for size in sizes:
            row[f"inference_mp_per_s@{size:g}MP"] = round(size / seconds[(name, size)], 3)
        rows.append(row)
    base = rows[0]
    for row in rows:
        row["train_ratio"] = round(row["train_steps_per_s"] / base["train_steps_per_s"], 2)
        for size in sizes:
            key = f"inference_mp_per_s@{size:g}MP"
            row[f"inference_ratio@{size:g}MP"] = round(row[key] / base[key], 2)
    flags = "".join(f" --{k} " + " ".join(f"'{v}'" if " " in str(v) else f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in values)
                    for k, values in (("sizes", args.sizes), ("models", args.models if args.models != list(MODELS) else []),
                                      ("variants", args.variants if args.variants != ["fp32"] else [])) if values)
    flags = "".join(f" --{k} {v}" for k, v, default in (("rounds", args.rounds, 3), ("steps", args.steps, 5)) if v != default) + flags
    flags += f" --stem {args.stem}" if args.stem != "model_speed" else ""
    result = {"command": COMMAND + flags, "rounds": args.rounds, "threads": 2, "torch": torch.__version__,
              "cpu": platform.processor() or platform.machine(), "rows": rows}
    size_heads = [f"inference MP/s at {s:.2g} MP (ratio)" for s in sizes]
    lines = [f"`{COMMAND}{flags}` (random "
             f"weights, fp32, 2 threads, median of {args.rounds} interleaved rounds; training = batch 4 x 96 x 96, "
             f"L1, Adam; torch {torch.__version__}; ratios to the first row)", "",
             "| model | params (M) | GMACs at 256x256 | " + " | ".join(size_heads) + " | train steps/s (ratio) |",
             "| --- | --- | --- | " + " | ".join("---" for _ in sizes) + " | --- |"]
    for r in rows:
        cells = [f"{r[f'inference_mp_per_s@{s:g}MP']} ({r[f'inference_ratio@{s:g}MP']}x)" for s in sizes]
        lines.append(f"| {r['model']} | {r['params_m']} | {r['gmacs_256']} | " + " | ".join(cells)
                     + f" | {r['train_steps_per_s']} ({r['train_ratio']}x) |")
    write_report(args.out, args.stem, result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
