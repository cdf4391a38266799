"""The end-to-end demo: synthetic rain on bundled photos -> train -> restore -> score -> grid.

Uses only images shipped inside scikit-image, so it runs offline on a fresh machine. Training photos
and test photos are disjoint; each training photo gets several independent rain renderings.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from .recipes import load_config
from .data.degrade import add_rain
from .io import read_image, to_float_rgb, write_image
from .io.arrays import from_float
from .visualize import save_comparison_grid

log = logging.getLogger(__name__)

# Colour photos shipped in scikit-image's data folder (no download needed).
TRAIN_PHOTOS = ("astronaut.png", "rocket.jpg", "ihc.png", "motorcycle_left.png", "hubble_deep_field.jpg", "retina.jpg")
TEST_PHOTOS = ("chelsea.png", "coffee.png")
RAIN_VARIANTS = 6
MAX_SIDE = 512


def _photo(name: str) -> np.ndarray:
    """A scikit-image sample photo as float32 RGB in [0, 1], shrunk to at most MAX_SIDE pixels."""
    import skimage

    path = Path(skimage.__file__).parent / "data" / name
    image = Image.fromarray(from_float(to_float_rgb(read_image(path)), np.uint8))
    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def synthesize(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``root/train`` and ``root/test`` paired folders of synthetic rain; returns both roots."""
    for index, (split, names, variants) in enumerate((("train", TRAIN_PHOTOS, RAIN_VARIANTS), ("test", TEST_PHOTOS, 1))):
        rng = np.random.default_rng((seed, index))  # one stream per split: the test set never shifts
        for name in names:
            clean = _photo(name)
            for k in range(variants):
                stem = Path(name).stem + (f"_{k}" if variants > 1 else "")
                write_image(root / split / "target" / f"{stem}.png", clean)
                write_image(root / split / "input" / f"{stem}.png", add_rain(clean, rng))
    return root / "train", root / "test"


def run_demo(out: Path, overrides: list[str] | None = None, progress: bool = True) -> int:
    from .api import load
    from .metrics.table import format_table
    from .engine.trainer import Trainer
    from .metrics.folders import evaluate_folders, mean_row

    out = Path(out)
    print(f"[1/4] synthesising rain on scikit-image photos -> {out / 'data'}")
    train_root, test_root = synthesize(out / "data")
    settings = [f"data.train.root={train_root}", f"data.val.root={test_root}", f"output_dir={out}", "name=run"]
    config = load_config("demo", settings + list(overrides or []))
    trainer = Trainer(config, progress=progress, overwrite=True)  # the demo is re-runnable
    print(f"[2/4] training {config.model.name} for {config.train.iterations} steps on {trainer.device} ...")
    run_dir = trainer.fit()

    print("[3/4] restoring held-out photos")
    restorer = load(run_dir / "model.safetensors")
    restored_dir = out / "restored"
    grid_rows: dict[str, list[np.ndarray]] = {"input": [], "restored": [], "target": []}
    for path in sorted((test_root / "input").glob("*.png")):
        degraded = to_float_rgb(read_image(path))
        restored = restorer.restore_array(degraded)
        write_image(restored_dir / path.name, restored)
        grid_rows["input"].append(degraded)
        grid_rows["restored"].append(restored)
        grid_rows["target"].append(to_float_rgb(read_image(test_root / "target" / path.name)))

    convention = config.eval.convention
    print(f"[4/4] scoring (convention: {convention})")
    before = evaluate_folders(test_root / "input", test_root / "target", convention)
    after = evaluate_folders(restored_dir, test_root / "target", convention)
    table = [
        [b["name"], b["psnr"], b["ssim"], a["psnr"], a["ssim"]]
        for b, a in zip([*before, mean_row(before)], [*after, mean_row(after)])
    ]
    print(format_table(["image", "input PSNR", "input SSIM", "restored PSNR", "restored SSIM"], table))
    grid = out / "comparison.png"
    save_comparison_grid(grid_rows, grid)
    print(f"grid (rows: input / restored / target): {grid}")
    gain = mean_row(after)["psnr"] - mean_row(before)["psnr"]
    print(f"mean PSNR change: {gain:+.2f} dB ({convention})")
    if gain <= 0:
        print("demo FAILED: restoration did not improve PSNR")
        return 1
    return 0
