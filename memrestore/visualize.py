"""Pictures a person would rather look at than numbers: labelled comparison grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .io import write_image
from .io.arrays import from_float


def comparison_grid(rows: dict[str, list[np.ndarray]], height: int = 220) -> np.ndarray:
    """A labelled uint8 grid: one row per entry of ``rows`` (e.g. input/restored/target), one column
    per image; images are float HxWx3 in [0, 1] and are scaled to ``height``."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_width, gap = max(90, 12 + max(round(measure.textlength(label)) for label in rows)), 4  # whole labels
    first = next(iter(rows.values()))
    widths = [max(1, round(image.shape[1] * height / image.shape[0])) for image in first]
    canvas = Image.new("RGB", (label_width + sum(widths) + gap * len(widths), len(rows) * (height + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, images) in enumerate(rows.items()):
        top = r * (height + gap)
        draw.text((6, top + height // 2 - 6), label, fill="black")
        left = label_width
        for image, width in zip(images, widths):
            tile = Image.fromarray(from_float(image, np.uint8))
            canvas.paste(tile.resize((width, height), Image.LANCZOS), (left, top))
            left += width + gap
    return np.asarray(canvas)


def save_comparison_grid(rows: dict[str, list[np.ndarray]], path: str | Path, height: int = 220) -> None:
    write_image(path, comparison_grid(rows, height))
