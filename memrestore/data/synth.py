"""Paired datasets from a folder of clean photos (``memrestore synth``).

Writes ``OUT/input/NAME.png`` (degraded) and ``OUT/target/NAME.png`` (clean), ``renderings`` degraded
versions per photo, reproducible from ``seed``; with ``preview`` also ``OUT/preview.png``, a contact
sheet of the first pairs. Only rain streaks are implemented so far (presets ``light``: Rain12-like,
``heavy``: Rain100H-like); the other degradations of issue 3 are still to come.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import MemrestoreError
from ..io import list_images, read_image, to_float_rgb, write_image
from .degrade import LIGHT_RAIN, add_rain

PRESETS = {"light": LIGHT_RAIN, "heavy": {}}
TASKS = ("derain",)


def synthesize_pairs(clean_dir: str | Path, out: str | Path, task: str = "derain", preset: str = "light",
                     renderings: int = 1, seed: int = 0, preview: bool = False, recursive: bool = True) -> int:
    """Write the paired dataset; returns the number of pairs. Existing complete output is reused."""
    if task not in TASKS:
        raise MemrestoreError(f"synthetic task {task!r} is not available yet (available: {', '.join(TASKS)})")
    if preset not in PRESETS:
        raise MemrestoreError(f"unknown rain preset {preset!r} (light, heavy)")
    clean_dir, out = Path(clean_dir), Path(out)
    if not clean_dir.is_dir():
        raise MemrestoreError(f"{clean_dir}: folder not found")
    folders = [clean_dir, *sorted(p for p in clean_dir.iterdir() if p.is_dir())] if recursive else [clean_dir]
    photos = [p for folder in folders for p in list_images(folder)]
    if not photos:
        raise MemrestoreError(f"{clean_dir}: no images found")
    expected = len(photos) * renderings
    if (out / "input").is_dir() and len(list_images(out / "input")) == expected:
        return expected
    rng = np.random.default_rng(seed)
    sheet = []
    for photo in tqdm(photos, desc=f"synth {task}", unit="photo"):
        clean = to_float_rgb(read_image(photo))
        prefix = "" if photo.parent == clean_dir else f"{photo.parent.name}_"
        for k in range(renderings):
            name = f"{prefix}{photo.stem}" + (f"_{k}" if renderings > 1 else "") + ".png"
            degraded = add_rain(clean, rng, ranges=PRESETS[preset])
            write_image(out / "target" / name, clean)
            write_image(out / "input" / name, degraded)
            if preview and len(sheet) < 6:
                sheet.append((degraded, clean))
    if preview:
        from ..visualize import save_comparison_grid

        save_comparison_grid({"degraded": [d for d, _ in sheet], "clean": [c for _, c in sheet]}, out / "preview.png", height=160)
    return expected
