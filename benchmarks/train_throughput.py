"""Training throughput of the demo recipe on this machine: fp32 vs bf16 autocast vs channels-last,
and the fraction of step time spent waiting for data.

    .venv/bin/python -m benchmarks.train_throughput [--steps 60] [--out benchmarks/results]

Uses the demo's synthetic-rain data (written to a temporary folder) and the demo config (U-Net
width 24, batch 8, 64x64 patches). Each variant trains --steps steps after --warmup untimed ones.
Writes train_throughput.json and train_throughput.md into --out.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from memrestore.recipes import load_config
from memrestore.demo import synthesize
from memrestore.engine.trainer import Trainer
from benchmarks.report import write_report

COMMAND = ".venv/bin/python -m benchmarks.train_throughput"
VARIANTS = {
    "fp32": [],
    "bf16 autocast": ["train.amp=bf16"],
    "channels-last": ["train.channels_last=true"],
    "bf16 + channels-last": ["train.amp=bf16", "train.channels_last=true"],
    "fp32, 1 loader worker": ["data.train.num_workers=1"],
}


def measure(config, warmup: int) -> dict:
    trainer = Trainer(config, progress=False, overwrite=True)
    trainer.config.train.iterations = warmup
    trainer.fit()  # warm-up: caches decoded images, settles allocator and thread pools
    trainer.config.train.iterations = warmup + config.train.iterations
    trainer.data_wait = 0.0
    start = time.perf_counter()
    trainer.fit()
    elapsed = time.perf_counter() - start
    return trainer.summary | {"wall_seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="memrestore-bench-"))
    train_root, _ = synthesize(work / "data")
    demo = "demo"
    rows = []
    for name, extra in VARIANTS.items():
        config = load_config(demo, [f"data.train.root={train_root}", f"output_dir={work}", "name=bench",
                                    f"train.iterations={args.steps}", "train.checkpoint_every=0", *extra])
        summary = measure(config, args.warmup)
        batch = config.data.train.batch_size
        rows.append({
            "variant": name,
            "images_per_second": summary["images_per_second"],
            "steps_per_second": round(summary["images_per_second"] / batch, 3),
            "data_wait_fraction": summary["data_wait_fraction"],
        })
        print(rows[-1], flush=True)
    result = {"command": COMMAND, "steps": args.steps, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "cpu": platform.processor() or platform.machine(), "recipe": "demo: unet w24, batch 8, 64x64", "rows": rows}
    lines = [f"`{COMMAND}` (demo recipe: U-Net width 24, batch 8 x 64x64 patches, {args.steps} timed steps, "
             f"torch {torch.__version__}, {torch.get_num_threads()} threads)", "",
             "| variant | images/s | steps/s | data-wait fraction |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['variant']} | {r['images_per_second']} | {r['steps_per_second']} | {r['data_wait_fraction']:.1%} |" for r in rows]
    write_report(args.out, "train_throughput", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
