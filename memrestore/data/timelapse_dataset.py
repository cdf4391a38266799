"""Time-lapse sequences: many degraded frames of one static scene, optionally with a clean frame.

Layout: ``ROOT/<scene>/*.png`` (the frames), and optionally ``ROOT/<scene>/clean.png`` (any image
whose stem is ``clean_name``). MGID (Cho et al., TIP 2022) trains from such data without captured
ground truth: a pseudo-clean background estimated per pixel over the frames supervises every rainy
frame. Rain only ever brightens a pixel (screen/additive compositing), so a low percentile over time
is a less biased estimate than the median when most frames are rainy; both are offered.

``TimeLapseDataset`` returns ``frames`` frames of one scene per item (``input``/``target`` of shape
FxCxHxW and ``scene``), so a batch of B items holds B scenes x F frames sharing a background: what
the memory and the BSW loss need to tell rain (varies across frames) from background (does not).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import MemrestoreError
from ..io import list_images, read_image, to_float_rgb
from ..tensors import hwc_to_chw
from .pairing import existing_dir, report_skipped
from .transforms import paired_dihedral, paired_random_crop

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Scene:
    name: str
    frames: tuple[Path, ...]
    clean: Optional[Path] = None


def read_timelapse(root: str, strict: bool = True, clean_name: str = "clean", min_frames: int = 2) -> list[Scene]:
    """One ``Scene`` per sub-folder of ``root`` with at least ``min_frames`` frames."""
    base = existing_dir(Path(root))
    scenes, skipped = [], []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        images = list_images(folder)
        clean = next((p for p in images if p.stem == clean_name), None)
        frames = tuple(p for p in images if p != clean)
        if len(frames) < min_frames:
            problem = f"{folder}: {len(frames)} frame(s), a time-lapse scene needs at least {min_frames}"
            if strict:
                raise MemrestoreError(problem)
            skipped.append(problem)
            continue
        scenes.append(Scene(folder.name, frames, clean))
    report_skipped(base, skipped, "scene folder(s)")
    if not scenes:
        raise MemrestoreError(f"{base}: no scene folders with frames found (expected ROOT/<scene>/*.png)")
    with_clean = sum(s.clean is not None for s in scenes)
    log.info("%s (timelapse layout): %d scenes, %d frames, %d with a clean frame",
             root, len(scenes), sum(len(s.frames) for s in scenes), with_clean)
    return scenes


def estimate_background(frames: np.ndarray, method: str = "percentile", percentile: float = 25.0) -> np.ndarray:
    """Per-pixel background of an NxHxWxC stack: temporal median or low ``percentile``."""
    if method == "median":
        return np.median(frames, axis=0).astype(np.float32)
    if method == "percentile":
        return np.percentile(frames, percentile, axis=0).astype(np.float32)
    raise MemrestoreError(f"unknown background estimate {method!r} (median, percentile, clean)")


class TimeLapseDataset(Dataset):
    """``frames`` random frames of one scene per item, with the same crop and flip, and their target:
    the pseudo-clean background (``background: median|percentile``) or the scene's clean frame
    (``background: clean``). Items are seeded by ``(seed, i)`` like ``PairedImageDataset``."""

    def __init__(self, scenes: list[Scene], frames: int = 4, patch_size: int = 64, augment: bool = True,
                 seed: int = 0, repeats: int = 64, background: str = "percentile", percentile: float = 25.0) -> None:
        if background == "clean":
            missing = [s.name for s in scenes if s.clean is None]
            if missing:
                raise MemrestoreError(f"scene {missing[0]!r} has no clean frame (background: clean needs one per scene)")
        self.scenes = scenes
        self.frames = frames
        self.patch_size = patch_size
        self.augment = augment
        self.seed = seed
        self.repeats = max(1, repeats)
        self.background = background
        self.percentile = percentile
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.scenes) * self.repeats

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """NxHxWx3 frames and the HxWx3 target of scene ``index`` (cached)."""
        if index not in self.cache:
            scene = self.scenes[index]
            stack = [to_float_rgb(read_image(p)) for p in scene.frames]
            for path, frame in zip(scene.frames, stack):
                if frame.shape != stack[0].shape:
                    raise MemrestoreError(f"{path} is {frame.shape[1]}x{frame.shape[0]} but {scene.frames[0]} is "
                                          f"{stack[0].shape[1]}x{stack[0].shape[0]}")
            frames = np.stack(stack)
            if self.background == "clean":
                target = to_float_rgb(read_image(scene.clean))
            else:
                target = estimate_background(frames, self.background, self.percentile)
            self.cache[index] = (frames, target)
        return self.cache[index]

    def preload(self) -> None:
        """Decode every scene now (what a run has done after its first pass over the data)."""
        for index in range(len(self.scenes)):
            self.load(index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | str]:
        index = i % len(self.scenes)
        frames, target = self.load(index)
        rng = np.random.default_rng((self.seed, i))
        chosen = rng.choice(len(frames), size=self.frames, replace=len(frames) < self.frames)
        arrays = [*frames[chosen], target]
        if self.patch_size:
            if min(target.shape[:2]) < self.patch_size:
                raise MemrestoreError(f"{self.scenes[index].frames[0]}: smaller than patch_size {self.patch_size}")
            arrays = paired_random_crop(arrays, self.patch_size, rng)
        if self.augment:
            arrays = paired_dihedral(arrays, rng)
        inputs = torch.stack([hwc_to_chw(a) for a in arrays[:-1]])
        return {
            "input": inputs,
            "target": hwc_to_chw(arrays[-1]).unsqueeze(0).expand_as(inputs).contiguous(),
            "scene": torch.tensor(index),
            "name": self.scenes[index].name,
        }
