"""Training data from a folder of clean photos (``memrestore synth``).

Paired tasks write ``OUT/input/NAME.png`` (degraded), ``OUT/target/NAME.png`` (clean) and, where the
degradation has one, ``OUT/mask/NAME.png`` (raindrop coverage, shadow region): the ``paired`` layout
with ``mask_dir: mask``. ``timelapse`` writes ``OUT/<photo>/frame_NN.png`` plus ``OUT/<photo>/clean.png``
(the ``timelapse`` layout). ``renderings`` degraded versions per photo, all drawn from one generator
seeded by ``seed`` in photo order, so the same command writes the same files; complete output is
reused, and ``preview`` writes ``OUT/preview.png``, a contact sheet of the first samples. Parameter
ranges come from a named or fitted preset (``presets``).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from tqdm import tqdm

from ..errors import MemrestoreError
from ..io import list_images, read_image, to_float_rgb, write_image
from . import degrade
from .presets import preset_ranges

# (clean, rng, ranges, depth or None) -> (degraded, mask or None); only dehaze uses a depth map.
Render = Callable[[np.ndarray, np.random.Generator, dict, Optional[np.ndarray]], tuple[np.ndarray, Optional[np.ndarray]]]


def _rain(clean, rng, ranges, depth):
    return degrade.add_rain(clean, rng, ranges=ranges), None


def _raindrop(clean, rng, ranges, depth):
    return degrade.add_raindrops(clean, rng, ranges=ranges)


def _shadow(clean, rng, ranges, depth):
    return degrade.add_shadow(clean, rng, degrade.shadow.sample_shadow_params(rng, **ranges))


def _blur(clean, rng, ranges, depth):
    if "grid" not in ranges:  # one kernel per photo
        return degrade.add_motion_blur(clean, rng, ranges=ranges)[0], None
    ranges = dict(ranges)
    low, high = ranges.pop("grid")
    return degrade.add_varying_motion_blur(clean, rng, int(rng.integers(low, high + 1)), ranges)[0], None


def _haze(clean, rng, ranges, depth):
    ranges = dict(ranges)
    scale = ranges.pop("depth_scale", 1.5)
    return degrade.add_haze(clean, rng, depth=depth, depth_scale=scale, ranges=ranges), None


RENDERERS: dict[str, Render] = {"derain": _rain, "raindrop": _raindrop, "deshadow": _shadow, "deblur": _blur, "dehaze": _haze}


def collect_photos(clean_dir: Path, recursive: bool = True) -> list[Path]:
    if not clean_dir.is_dir():
        raise MemrestoreError(f"{clean_dir}: folder not found")
    folders = [clean_dir, *sorted(p for p in clean_dir.iterdir() if p.is_dir())] if recursive else [clean_dir]
    photos = [p for folder in folders for p in list_images(folder)]
    if not photos:
        raise MemrestoreError(f"{clean_dir}: no images found")
    return photos


def render(task: str, clean: np.ndarray, rng: np.random.Generator, preset: Optional[str] = None,
           depth: Optional[np.ndarray] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """One degraded rendering of ``clean`` (and its mask, or None) for a paired ``task``."""
    return RENDERERS[task](clean, rng, preset_ranges(task, preset), depth)


def _photo_stem(photo: Path, clean_dir: Path) -> str:
    """Output name of a photo: prefixed by its sub-folder when it is not directly in ``clean_dir``."""
    return photo.stem if photo.parent == clean_dir else f"{photo.parent.name}_{photo.stem}"


def _depth_for(depth_dir: Optional[Path], photo: Path, shape: tuple[int, int]) -> Optional[np.ndarray]:
    if depth_dir is None:
        return None
    candidates = [depth_dir / f"{photo.stem}.npy", *(depth_dir / f"{photo.stem}{ext}" for ext in (".png", ".tif", ".tiff"))]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise MemrestoreError(f"{photo}: no depth file {photo.stem}.npy/.png/.tif in {depth_dir}")
    return degrade.haze.read_depth(found, shape)


def synthesize_pairs(clean_dir: str | Path, out: str | Path, task: str = "derain", preset: Optional[str] = None,
                     renderings: int = 1, seed: int = 0, preview: bool = False, recursive: bool = True,
                     depth_dir: str | Path | None = None, frames: int = 12, average: int = 0) -> int:
    """Write the dataset; returns the number of pairs (time-lapse: frames). Complete output is reused.

    ``depth_dir`` (dehaze): per-photo depth maps ``STEM.npy`` or 16-bit images, in depth units.
    ``frames`` (timelapse): frames per scene. ``average`` (deblur): treat the photos as consecutive
    video frames and write the mean of each window of ``average`` frames (GoPro's recipe) against
    its middle frame, instead of kernel blur.
    """
    ranges = preset_ranges(task, preset)
    clean_dir, out = Path(clean_dir), Path(out)
    photos = collect_photos(clean_dir, recursive)
    if task == "timelapse":
        return _synthesize_timelapse(photos, clean_dir, out, ranges, frames, seed, preview)
    if task == "deblur" and average:
        expected, shown = _synthesize_averaged(photos, out, average), 1
    else:
        expected, shown = len(photos) * renderings, 6
        if not ((out / "input").is_dir() and len(list_images(out / "input")) == expected):
            _render_pairs(photos, clean_dir, out, task, ranges, renderings, seed, depth_dir)
    if preview:  # drawn from the files, so complete output that is reused gets one too
        names = [path.name for path in list_images(out / "input")[:shown]]
        parts = {"degraded": "input", "clean": "target", "mask": "mask"}
        _write_preview({row: [to_float_rgb(read_image(out / part / name)) for name in names]
                        for row, part in parts.items() if (out / part).is_dir()}, out / "preview.png")
    return expected


def _render_pairs(photos: list[Path], clean_dir: Path, out: Path, task: str, ranges: dict, renderings: int, seed: int,
                  depth_dir: str | Path | None) -> None:
    rng = np.random.default_rng(seed)
    depth_path = Path(depth_dir) if depth_dir else None
    for photo in tqdm(photos, desc=f"synth {task}", unit="photo"):
        clean = to_float_rgb(read_image(photo))
        depth = _depth_for(depth_path, photo, clean.shape[:2]) if task == "dehaze" else None
        stem = _photo_stem(photo, clean_dir)
        for k in range(renderings):
            name = stem + (f"_{k}" if renderings > 1 else "") + ".png"
            degraded, mask = RENDERERS[task](clean, rng, ranges, depth)
            write_image(out / "target" / name, clean)
            write_image(out / "input" / name, degraded)
            if mask is not None:
                write_image(out / "mask" / name, mask)


def _synthesize_timelapse(photos: list[Path], clean_dir: Path, out: Path, ranges: dict, frames: int, seed: int,
                          preview: bool) -> int:
    if frames < 2:
        raise MemrestoreError(f"--frames {frames}: a time-lapse needs at least 2 frames")
    expected = len(photos) * frames
    if not (out.is_dir() and sum(len(list_images(d)) - 1 for d in out.iterdir() if d.is_dir()) == expected):
        rng = np.random.default_rng(seed)
        for photo in tqdm(photos, desc="synth timelapse", unit="scene"):
            clean = to_float_rgb(read_image(photo))
            scene = out / _photo_stem(photo, clean_dir)
            sequence, _ = degrade.timelapse_sequence(clean, rng, frames, ranges=ranges)
            for t, frame in enumerate(sequence):
                write_image(scene / f"frame_{t:03d}.png", frame)
            write_image(scene / "clean.png", clean)
    if preview:  # drawn from the first scene's files, so complete output that is reused gets one too
        scene = min(d for d in out.iterdir() if d.is_dir())
        shown = [to_float_rgb(read_image(path)) for path in [*sorted(scene.glob("frame_*.png"))[:5], scene / "clean.png"]]
        _write_preview({"frames + clean": shown}, out / "preview.png")
    return expected


def _synthesize_averaged(photos: list[Path], out: Path, window: int) -> int:
    if window < 2 or window > len(photos):
        raise MemrestoreError(f"--average {window}: needs 2 to {len(photos)} consecutive frames")
    count = len(photos) - window + 1
    frames: deque[np.ndarray] = deque(maxlen=window)  # each frame is read once, windows slide
    for index, path in enumerate(tqdm(photos, desc="synth deblur (frame averaging)", unit="frame")):
        frames.append(to_float_rgb(read_image(path)))
        if frames[-1].shape != frames[0].shape:
            raise MemrestoreError(f"{path}: size differs from {photos[index - len(frames) + 1]}; frames to average must match")
        if len(frames) < window:
            continue
        sharp = photos[index - window + 1 + window // 2]
        blurred = degrade.average_frames(list(frames))
        write_image(out / "input" / f"{sharp.stem}.png", blurred)
        write_image(out / "target" / f"{sharp.stem}.png", frames[window // 2])
    return count


def _write_preview(rows: dict[str, list[np.ndarray]], path: Path) -> None:
    from ..visualize import save_comparison_grid

    save_comparison_grid(rows, path, height=160)
