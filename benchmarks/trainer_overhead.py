"""The training engine's own cost: ``memrestore train``'s Trainer against a bare PyTorch loop.

    .venv/bin/python -m benchmarks.trainer_overhead [--steps 60] [--rounds 3] [--out benchmarks/results]

Both run the same model, optimiser (AdamW), loss (L1) and batch shape (4 x 3 x 96 x 96). The bare loop
reuses two random tensors (zero_grad, forward, loss, backward, step: nothing else); the Trainer reads
crops of 8 generated 256x256 pairs from its data pipeline (decoded once, cached), with its logging,
schedule and checks. Timed side by side in one process, interleaved over --rounds rounds after a
warm-up, 2 threads. Overhead = 1 - trainer steps/s / bare steps/s (target <= 10 %).
Writes trainer_overhead.json / .md into --out.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.report import write_report

from memrestore.recipes import load_config
from memrestore.engine.trainer import Trainer
from memrestore.io import write_image
from memrestore.models import build_model, final_output

COMMAND = ".venv/bin/python -m benchmarks.trainer_overhead"
MODELS = {
    "NAFNet-w16 [1,1,1,8]": ["model.name=nafnet", "model.width=16", "model.enc_blk_nums=[1, 1, 1, 8]"],
    "FastUNet + hierarchical memory": ["model.name=fastunet", "model.memories={bottleneck: {kind: hierarchical}}"],
}
RECIPE = ["data.train.patch_size=96", "data.train.batch_size=4", "train.losses=[{name: l1}]", "train.optimizer.name=adamw",
          "train.optimizer.lr=1e-4", "train.log_every=20", "train.checkpoint_every=0", "train.samples=0"]


def generated_pairs(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(8):
        clean = rng.random((256, 256, 3)).astype(np.float32)
        write_image(root / "target" / f"{i}.png", clean)
        write_image(root / "input" / f"{i}.png", np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1))
    return root


class BareLoop:
    def __init__(self, overrides: list[str]) -> None:
        model = load_config(None, overrides).model
        torch.manual_seed(0)
        self.model = build_model(model.name, **model.options).train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4)
        self.x, self.y = torch.rand(4, 3, 96, 96), torch.rand(4, 3, 96, 96)

    def run(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.l1_loss(final_output(self.model(self.x)), self.y).backward()
            self.optimizer.step()
        return steps / (time.perf_counter() - start)


class TrainerLoop:
    def __init__(self, overrides: list[str], data: Path, work: Path, name: str) -> None:
        config = load_config(None, [*overrides, *RECIPE, f"data.train.root={data}", f"output_dir={work}", f"name={name}",
                                    "train.iterations=5"])
        self.trainer = Trainer(config, progress=False, overwrite=True)
        self.trainer.fit()

    def run(self, steps: int) -> float:
        self.trainer.config.train.iterations = self.trainer.step + steps
        start = time.perf_counter()
        self.trainer.fit()
        return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    torch.set_num_threads(2)
    work = Path(tempfile.mkdtemp(prefix="memrestore-overhead-"))
    data = generated_pairs(work / "data")
    loops = {}
    for name, overrides in MODELS.items():
        loops[(name, "bare")] = BareLoop(overrides)
        loops[(name, "trainer")] = TrainerLoop(overrides, data, work, "".join(c for c in name if c.isalnum()))
    for loop in loops.values():  # warm-up
        loop.run(10)
    samples: dict = {key: [] for key in loops}
    for round_ in range(args.rounds):
        for key, loop in loops.items():
            samples[key].append(loop.run(args.steps))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    rows = []
    for name in MODELS:
        bare, trainer = (statistics.median(samples[(name, kind)]) for kind in ("bare", "trainer"))
        rows.append({"model": name, "bare_steps_per_s": round(bare, 2), "trainer_steps_per_s": round(trainer, 2),
                     "overhead": round(1 - trainer / bare, 3)})
    result = {"command": COMMAND, "steps": args.steps, "rounds": args.rounds, "torch": torch.__version__, "rows": rows}
    lines = [f"`{COMMAND}` (batch 4 x 96x96, L1, AdamW, {args.steps} steps x {args.rounds} interleaved rounds, "
             "median; 2 threads)", "", "| model | bare loop steps/s | Trainer steps/s | overhead |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['model']} | {r['bare_steps_per_s']} | {r['trainer_steps_per_s']} | {r['overhead']:.1%} |" for r in rows]
    write_report(args.out, "trainer_overhead", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
