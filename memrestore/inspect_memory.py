"""``memrestore inspect memory CKPT IMAGE``: which memory items each image region reads.

For every memory level (part / instance / semantic) the PNG shows the arg-max item per pixel (one
colour per item) and a histogram of item usage (mean addressing weight over the image), beside the
input. This is the "diagnostic tool" MemoryNet's future-work section asks for; MGID's memory uses the
same view.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
import torch

from .errors import MemrestoreError
from .io.atomic import atomic_path
from .models.interface import RestorationModel
from .tensors import eval_mode, hwc_to_chw, model_device


def item_palette(count: int) -> np.ndarray:
    """``count`` well-separated RGB colours (golden-ratio hue steps), uint8."""
    return np.array([[int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75, 0.95)] for i in range(count)], np.uint8)


@torch.no_grad()
def memory_maps(model: RestorationModel, image01: np.ndarray) -> dict[str, np.ndarray]:
    """Addressing weights (H, W, K) per memory and level for a float HxWx3 image (the model's last read)."""
    device = model_device(model)
    with eval_mode(model):
        model(hwc_to_chw(image01)[None].to(device))
    readouts = model.memory_readouts()
    if not readouts:
        raise MemrestoreError("this checkpoint's model has no memory module to inspect")
    h, w = image01.shape[:2]
    maps = {}
    for name, readout in readouts.items():
        for level, weights in readout.weights.items():
            weights = weights[0].float()
            grid_h, grid_w = weights.shape[:2]  # a memory on a downsampled grid covers the padded image
            scale = max(1, round(max(h / grid_h, w / grid_w)))
            weights = weights.permute(2, 0, 1)[None]
            if scale > 1:
                weights = torch.nn.functional.interpolate(weights, scale_factor=scale, mode="nearest")
            weights = weights[0, :, :h, :w].permute(1, 2, 0)  # models pad at the bottom/right: crop back
            maps[level if len(readouts) == 1 else f"{name} {level}"] = weights.cpu().numpy()
    return maps


def save_memory_figure(image01: np.ndarray, maps: dict[str, np.ndarray], path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = list(maps)
    figure, axes = plt.subplots(2, len(levels) + 1, figsize=(4 * (len(levels) + 1), 7))
    axes[0, 0].imshow(np.clip(image01, 0, 1))
    axes[0, 0].set_title("input")
    axes[1, 0].axis("off")
    for i, level in enumerate(levels, start=1):
        weights = maps[level]
        count = weights.shape[-1]
        winners = weights.argmax(axis=-1)
        axes[0, i].imshow(item_palette(count)[winners])
        axes[0, i].set_title(f"{level}: arg-max item ({len(np.unique(winners))} of {count} used)")
        axes[1, i].bar(np.arange(count), weights.reshape(-1, count).mean(axis=0), color=item_palette(count) / 255.0)
        axes[1, i].set_title(f"{level}: mean addressing weight per item")
        axes[1, i].set_xlabel("memory item")
    for axis in axes[0]:
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    plt.close(figure)
    return path
