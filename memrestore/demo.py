"""The README's main command: restore degraded photos of every task with the packaged default models.

``run_demo`` needs no training: for each task with a packaged model it restores real degraded/clean
pairs when a folder of the shared layout is given (``--real``): the held-out test pairs its model card
records (cards made by ``memrestore bench package``), else the first pairs of the task's set
(``derain-Rain12``, ``raindrop``, ``dehaze-SOTS-indoor``, ``deblur-GoPro``, ``timelapse-GTRAIN``);
otherwise degradations rendered by ``memrestore synth`` on photos that scikit-image ships; it prints PSNR/SSIM before and after and writes one before/after/target
grid per task. ``run_training_demo`` (``memrestore demo --train``) is the training walk-through:
synthetic rain on bundled photos -> train a small U-Net -> restore -> score -> grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .recipes import load_config
from .data.degrade import add_rain
from .io import read_image, to_float_rgb, write_image
from .io.arrays import from_float
from .tensors import chw_to_hwc
from .visualize import save_comparison_grid

# The real pair set of each task in the shared data layout (no real shadow pairs exist there), and how
# many of its pairs the demo restores.
REAL_SETS = {"derain": "derain-Rain12", "raindrop": "raindrop", "dehaze": "dehaze-SOTS-indoor", "deblur": "deblur-GoPro",
             "timelapse": "timelapse-GTRAIN"}
PAIRS_PER_TASK = 4
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


def run_training_demo(out: Path, overrides: list[str] | None = None, progress: bool = True) -> int:
    """Synthesise rain on bundled photos, train the demo U-Net, restore and score the held-out photos."""
    from .api import load
    from .engine.trainer import Trainer

    out = Path(out)
    print(f"[1/3] synthesising rain on scikit-image photos -> {out / 'data'}")
    train_root, test_root = synthesize(out / "data")
    settings = [f"data.train.root={train_root}", f"data.val.root={test_root}", f"output_dir={out}", "name=run"]
    config = load_config("demo", settings + list(overrides or []))
    trainer = Trainer(config, progress=progress, overwrite=True)  # the demo is re-runnable
    print(f"[2/3] training {config.model.name} for {config.train.iterations} steps on {trainer.device} ...")
    run_dir = trainer.fit()
    print("[3/3] restoring and scoring held-out photos")
    gain = restore_and_score(load(run_dir / "model.safetensors"), folder_pairs(test_root), config.eval.convention,
                             out / "restored")
    if gain <= 0:
        print("demo FAILED: restoration did not improve PSNR")
        return 1
    return 0


Pairs = list[tuple[str, np.ndarray, np.ndarray]]  # (name, degraded, clean) as float RGB


def folder_pairs(folder: Path, limit: int | None = None) -> Pairs:
    """The first ``limit`` pairs of a paired folder (or of GT-RAIN-style time-lapse scenes)."""
    from .data.paired_dataset import PairedImageDataset

    return dataset_arrays(PairedImageDataset.from_folder(folder, layout="auto"), limit)


def dataset_arrays(dataset, limit: int | None = None) -> Pairs:
    """The first ``limit`` pairs of a ``PairedImageDataset`` as (name, degraded, clean) arrays."""
    return [(f"{dataset.pairs[i].name}.png", chw_to_hwc(dataset[i]["input"]), chw_to_hwc(dataset[i]["target"]))
            for i in range(min(limit or len(dataset), len(dataset)))]


def held_out_pairs(card: dict, real: Path) -> tuple[Path, str, Pairs] | None:
    """(folder, convention, first pairs) of the first real test set a suite-made card records that ``real``
    holds (found by its folder name) with pairs in it, each cut to the set's ``crop`` region when it has
    one: pairs the default never trained on. None otherwise."""
    from .data.layouts import selected_pairs
    from .data.paired_dataset import PairedImageDataset
    from .data.region import crop

    for spec in card.get("tests", {}).values():
        if not spec.get("root"):  # rendered by the suite (`synth`), not real: the demo renders its own
            continue
        folder = real / Path(spec["root"]).name
        pairs = selected_pairs(spec.get("layout", "paired"), folder, spec.get("include", "*")) if folder.is_dir() else []
        if pairs:
            arrays = dataset_arrays(PairedImageDataset(pairs), PAIRS_PER_TASK)
            if spec.get("crop"):
                arrays = [(name, crop(degraded, spec["crop"]), crop(clean, spec["crop"])) for name, degraded, clean in arrays]
            return folder, spec.get("convention", "rgb"), arrays
    return None


def demo_pairs(task: str, real: Path | None, card: dict | None = None, seed: int = 0) -> tuple[Path | None, str, Pairs]:
    """(the real set's folder, its convention, its first pairs) for one task when ``real`` holds it: the
    card's held-out test pairs, else (older cards) the first pairs of the task's set; otherwise (None,
    "rgb", synthetic degradations of scikit-image's test photos)."""
    from .data.presets import renderer
    from .data.synth import render

    card = card or {}
    held = held_out_pairs(card, real) if real is not None else None
    if held is not None:
        return held
    folder = real / REAL_SETS[task] if real is not None and task in REAL_SETS else None
    if folder is not None and folder.is_dir():
        # a card's convention is its real test sets' (Y for rain)
        convention = next(iter(card.get("metrics", {}).values()), {}).get("convention", "rgb")
        return folder, convention, folder_pairs(folder, PAIRS_PER_TASK)
    rng = np.random.default_rng(seed)
    synthetic = renderer(task)  # a time-lapse model restores single rainy frames
    pairs = []
    for name in TEST_PHOTOS:
        clean = _photo(name)
        pairs.append((Path(name).stem + ".png", render(synthetic, clean, rng)[0], clean))
    return None, "rgb", pairs


def restore_and_score(restorer, pairs: Pairs, convention: str, out: Path) -> float:
    """Restore every pair into ``out``, print input vs restored PSNR/SSIM, write ``out/comparison.png``;
    returns the mean PSNR gain in dB."""
    from .metrics import psnr_ssim
    from .metrics.table import format_table

    rows, grid = [], {"input": [], "restored": [], "target": []}
    for name, degraded, clean in pairs:
        restored = restorer.restore_array(degraded)
        write_image(out / name, restored)
        before, after = psnr_ssim(degraded, clean, convention), psnr_ssim(restored, clean, convention)
        rows.append([name, before["psnr"], before["ssim"], after["psnr"], after["ssim"]])
        for key, image in zip(grid, (degraded, restored, clean)):
            grid[key].append(image)
    mean = [float(np.mean([r[k] for r in rows])) for k in range(1, 5)]
    print(format_table(["image", "input PSNR", "input SSIM", "restored PSNR", "restored SSIM"], [*rows, ["mean", *mean]]))
    save_comparison_grid(grid, out / "comparison.png")
    print(f"mean PSNR change: {mean[2] - mean[0]:+.2f} dB ({convention}); grid (rows: input / restored / target): "
          f"{out / 'comparison.png'}")
    return mean[2] - mean[0]


def run_demo(out: Path, real: Path | None = None, tasks: list[str] | None = None, strict: bool = False) -> int:
    """Restore and score every task that has a packaged default. A task whose pairs got worse is named
    in the output (the model cards say where each default falls short); with ``strict`` it also makes
    the exit status 1. No packaged model at all is always 1."""
    from .api import load
    from .metrics.table import format_table
    from .pretrained import TASKS, model_cards

    out, cards = Path(out), model_cards()
    summary, failed = [], []
    for task in tasks or TASKS:
        if task not in cards:
            print(f"{task}: no packaged model yet (memrestore models)")
            continue
        folder, convention, pairs = demo_pairs(task, real, cards[task].data)
        source = f"{folder} (real)" if folder else "synthetic, on scikit-image photos"
        print(f"\n{task}: {len(pairs)} pairs from {source}, convention {convention}")
        gain = restore_and_score(load(task), pairs, convention, out / task)
        summary.append([task, source, f"{gain:+.2f}", str(out / task / "comparison.png")])
        if gain <= 0:
            failed.append(task)
    if summary:
        print()
        print(format_table(["task", "pairs", "PSNR gain dB", "grid (input / restored / target)"], summary))
    if failed:
        print(f"restoration lowered the mean PSNR for {', '.join(failed)} (see the model cards: memrestore models)")
    return 1 if (failed and strict) or not summary else 0
