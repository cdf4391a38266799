"""Which building blocks are fast on this CPU: the measurements a CPU-first backbone is designed from.

    .venv/bin/python -m benchmarks.blocks_speed [--channels 32] [--rounds 5] [--out benchmarks/results]

Every block maps a C-channel feature map to a C-channel one. Inference: one 1 x C x 256 x 256 map,
no gradients. Training: forward + backward of a 4 x C x 96 x 96 map (the issue's training batch at
full resolution). All blocks are timed in one process, interleaved over --rounds rounds (median kept),
so the ratios between rows are what count; the machine's absolute speed drifts by up to 1.5x.
Columns: feature megapixels per second (higher is faster) and the multiply-accumulate rate achieved.
Writes blocks_speed.json / .md into --out.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from memrestore.models.complexity import count_macs
from memrestore.tensors import memory_format
from benchmarks.report import write_report

COMMAND = ".venv/bin/python -m benchmarks.blocks_speed"


class LayerNorm2d(nn.Module):
    """Normalisation over channels at each pixel (NAFNet, ConvNeXt)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / (var + 1e-6).sqrt() * self.weight[:, None, None] + self.bias[:, None, None]


class SimpleGate(nn.Module):
    """NAFNet's activation: split the channels in two halves and multiply them (2C -> C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class ChannelAttention(nn.Module):
    """Global average pool + 1x1 conv + scale (NAFNet's simplified channel attention)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv(F.adaptive_avg_pool2d(x, 1))


class AtLowResolution(nn.Module):
    """Pixel-unshuffle by ``factor``, a block on the factor^2-times-wider map, pixel-shuffle back."""

    def __init__(self, block: nn.Module, factor: int) -> None:
        super().__init__()
        self.block, self.factor = block, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.block(F.pixel_unshuffle(x, self.factor)), self.factor)


def blocks(c: int) -> dict[str, Callable[[], nn.Module]]:
    """name -> factory; each block maps C channels to C channels at the same size."""
    def conv(k: int, groups: int = 1, cin: int = c, cout: int = c) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups)

    def nafblock() -> nn.Module:
        from spandrel.architectures.NAFNet.__arch.NAFNet_arch import NAFBlock

        return NAFBlock(c)

    return {
        "dense 3x3 conv": lambda: conv(3),
        "dense 3x3 conv + ReLU": lambda: nn.Sequential(conv(3), nn.ReLU()),
        "dense 3x3 conv + GELU": lambda: nn.Sequential(conv(3), nn.GELU()),
        "dense 3x3 conv + LeakyReLU(0.1)": lambda: nn.Sequential(conv(3), nn.LeakyReLU(0.1)),
        "dense 3x3 conv 2C + SimpleGate": lambda: nn.Sequential(conv(3, cout=2 * c), SimpleGate()),
        "1x1 conv": lambda: conv(1),
        "depthwise 3x3 conv": lambda: conv(3, groups=c),
        "depthwise 3x3 + 1x1 (separable)": lambda: nn.Sequential(conv(3, groups=c), conv(1)),
        "depthwise 7x7 conv": lambda: conv(7, groups=c),
        "dense 3x3, 2C at 1/2 res (unshuffle 2, same MACs)": lambda: AtLowResolution(
            nn.Sequential(conv(1, cin=4 * c, cout=2 * c), conv(3, cin=2 * c, cout=2 * c), conv(1, cin=2 * c, cout=4 * c)), 2),
        "dense 3x3, 4C at 1/2 res (unshuffle 2)": lambda: AtLowResolution(conv(3, cin=4 * c, cout=4 * c), 2),
        "dense 3x3, 4C at 1/4 res (unshuffle 4, 16C in/out)": lambda: AtLowResolution(
            nn.Sequential(conv(1, cin=16 * c, cout=4 * c), conv(3, cin=4 * c, cout=4 * c), conv(1, cin=4 * c, cout=16 * c)), 4),
        "LayerNorm2d (per pixel)": lambda: LayerNorm2d(c),
        "GroupNorm(1)": lambda: nn.GroupNorm(1, c),
        "BatchNorm2d": lambda: nn.BatchNorm2d(c),
        "InstanceNorm2d": lambda: nn.InstanceNorm2d(c, affine=True),
        "channel attention (pool + 1x1)": lambda: ChannelAttention(c),
        "NAFBlock (spandrel)": nafblock,
    }


VARIANTS = {  # (block, variant) -> how it runs: memory format, autocast, threads
    "fp32": dict(channels_last=False, bf16=False, threads=2),
    "channels-last": dict(channels_last=True, bf16=False, threads=2),
    "bf16 autocast": dict(channels_last=False, bf16=True, threads=2),
    "1 thread": dict(channels_last=False, bf16=False, threads=1),
}
VARIANT_BLOCKS = ("dense 3x3 conv + ReLU", "depthwise 3x3 + 1x1 (separable)", "NAFBlock (spandrel)")


def timer(module: nn.Module, shape: tuple[int, ...], train: bool, channels_last: bool, bf16: bool) -> Callable[[], float]:
    """A function that runs one forward (+ backward when ``train``) and returns its seconds."""
    fmt = memory_format(channels_last)
    module = module.to(memory_format=fmt).train(train)
    x = torch.rand(shape).contiguous(memory_format=fmt).requires_grad_(train)

    def run() -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), torch.set_grad_enabled(train):
            out = module(x)
        if train:
            out.float().square().mean().backward()
        return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per round (median kept)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    c = args.channels
    shapes = {"inference": (1, c, 256, 256), "train": (4, c, 96, 96)}
    factories = blocks(c)
    cases = [(name, "fp32") for name in factories] + [(n, v) for v in list(VARIANTS)[1:] for n in VARIANT_BLOCKS]
    runners, macs = {}, {}
    for name, variant in cases:
        torch.manual_seed(0)
        module = factories[name]()
        macs[name] = count_macs(module, 64, 64, channels=c) / (64 * 64)  # per feature pixel
        options = VARIANTS[variant]
        for mode, shape in shapes.items():
            runners[(name, variant, mode)] = (options["threads"], timer(module, shape, mode == "train",
                                                                         options["channels_last"], options["bf16"]))
    samples: dict[tuple, list[float]] = {key: [] for key in runners}
    for key, (threads, run) in runners.items():  # warm-up: first calls allocate and pick kernels
        torch.set_num_threads(threads)
        run(), run()
    for round_ in range(args.rounds):
        for key, (threads, run) in runners.items():
            torch.set_num_threads(threads)
            samples[key].append(statistics.median(run() for _ in range(args.repeats)))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    torch.set_num_threads(2)
    rows = []
    for name, variant in cases:
        row = {"block": name, "variant": variant, "macs_per_pixel": round(macs[name])}
        for mode, shape in shapes.items():
            seconds = statistics.median(samples[(name, variant, mode)])
            pixels = shape[0] * shape[2] * shape[3]
            row[f"{mode}_mpix_per_s"] = round(pixels / seconds / 1e6, 2)
            row[f"{mode}_gmacs_per_s"] = round(pixels * macs[name] * (3 if mode == "train" else 1) / seconds / 1e9, 1)
        rows.append(row)
        print(row, flush=True)
    result = {"command": COMMAND, "channels": c, "shapes": shapes, "rounds": args.rounds, "torch": torch.__version__,
              "cpu": platform.processor() or platform.machine(), "rows": rows}
    lines = [f"`{COMMAND}` (C = {c}; inference on 1 x C x 256 x 256, training = forward + backward on 4 x C x 96 x 96; "
             f"median of {args.rounds} interleaved rounds; torch {torch.__version__}; 2 threads unless stated; "
             "training GMAC/s counts backward as 2x forward)", "",
             "| block | variant | MACs / pixel | inference Mpix/s | inference GMAC/s | training Mpix/s | training GMAC/s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['block']} | {r['variant']} | {r['macs_per_pixel']} | {r['inference_mpix_per_s']} | "
              f"{r['inference_gmacs_per_s']} | {r['train_mpix_per_s']} | {r['train_gmacs_per_s']} |" for r in rows]
    write_report(args.out, "blocks_speed", result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
