"""Paired training/test examples from any dataset layout (``layouts.py``), with optional masks.

The dataset states what it found and fails loudly (naming both files) on a size mismatch, so a
half-copied dataset is never trained on silently.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import MemrestoreError
from ..io import read_image, to_float_rgb
from ..io.images import image_size
from ..tensors import hwc_to_chw
from .layouts import guess_layout, read_layout
from .pairing import Pair
from .transforms import paired_dihedral, paired_random_crop

log = logging.getLogger(__name__)


def describe_sizes(pairs: list[Pair]) -> str:
    """``"12 pairs, 480x320"`` or ``"50 pairs, sizes 620x460 (48), 640x480 (2)"`` from file headers."""
    sizes: Counter = Counter()
    for pair in pairs:
        size = image_size(pair.input)
        sizes[f"{size[0]}x{size[1]}" if size else "?"] += 1
    if len(sizes) == 1:
        return f"{len(pairs)} pairs, {next(iter(sizes))}"
    common = ", ".join(f"{size} ({n})" for size, n in sizes.most_common(4))
    return f"{len(pairs)} pairs, sizes {common}" + (" ..." if len(sizes) > 4 else "")


class PairedImageDataset(Dataset):
    """Training patches (``patch_size > 0``) or whole images (``patch_size == 0``) from ``pairs``.

    With patches, item ``i`` (any non-negative integer: samplers encode the epoch in it) is a random
    crop of image ``i % len(pairs)`` drawn from a generator seeded by ``(seed, i)``, so a run is
    reproducible whatever the number of loader workers, and resumable from any position. Masks
    (shadow, raindrop) are cropped and flipped with their pair and returned as ``mask`` (1xHxW); with
    ``mask_focus`` > 0 that share of crops is centred on masked pixels.
    """

    def __init__(self, pairs: list[Pair], patch_size: int = 0, augment: bool = False, cache: bool = True,
                 seed: int = 0, repeats: int = 1, where: str = "dataset", mask_focus: float = 0.0) -> None:
        if not pairs:
            raise MemrestoreError(f"{where}: no pairs")
        self.pairs = pairs
        self.patch_size = patch_size
        self.augment = augment
        self.cache: dict[int, list[np.ndarray]] | None = {} if cache else None
        self.seed = seed
        self.repeats = max(1, repeats)
        self.has_masks = all(p.mask is not None for p in pairs)
        self.mask_focus = mask_focus
        log.info("%s: %s", where, describe_sizes(pairs))

    @classmethod
    def from_folder(cls, root: str | Path, layout: str = "paired", strict: bool = True, **kwargs) -> "PairedImageDataset":
        """Whole images (or, with ``patch_size``, patches) of a dataset folder in the named layout;
        ``layout="auto"``: memrestore's ``input/`` + ``target/`` folders or GT-RAIN-style scene folders."""
        layout = guess_layout(root) if layout == "auto" else layout
        return cls(read_layout(layout, str(root), strict), where=str(root), **kwargs)

    def __len__(self) -> int:
        return len(self.pairs) * (self.repeats if self.patch_size else 1)

    def load(self, index: int) -> list[np.ndarray]:
        """Float32 HxWx3 input and target (and HxWx1 mask) of pair ``index`` (cached when enabled)."""
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        pair = self.pairs[index]
        arrays = [to_float_rgb(read_image(pair.input)), to_float_rgb(read_image(pair.target))]
        files = [pair.input, pair.target]
        if self.has_masks:
            mask = to_float_rgb(read_image(pair.mask)).mean(axis=2, keepdims=True)
            arrays.append((mask > 0.5).astype(np.float32))
            files.append(pair.mask)
        for other, path in zip(arrays[1:], files[1:]):
            if other.shape[:2] != arrays[0].shape[:2]:
                raise MemrestoreError(
                    f"{pair.input} is {arrays[0].shape[1]}x{arrays[0].shape[0]} but {path} is "
                    f"{other.shape[1]}x{other.shape[0]}"
                )
        if self.cache is not None:
            self.cache[index] = arrays
        return arrays

    def preload(self) -> None:
        """Decode every pair now (what a run has done after its first pass over the data)."""
        for index in range(len(self.pairs)):
            self.load(index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | str]:
        index = i % len(self.pairs)
        arrays = self.load(index)
        if self.patch_size:
            if min(arrays[0].shape[:2]) < self.patch_size:
                raise MemrestoreError(f"{self.pairs[index].input}: smaller than patch_size {self.patch_size}")
            rng = np.random.default_rng((self.seed, i))
            mask = arrays[2] if self.has_masks else None
            arrays = paired_random_crop(arrays, self.patch_size, rng, mask, self.mask_focus)
            if self.augment:
                arrays = paired_dihedral(arrays, rng)
        item: dict[str, torch.Tensor | str] = {
            "input": hwc_to_chw(arrays[0]), "target": hwc_to_chw(arrays[1]), "name": self.pairs[index].name,
        }
        if self.has_masks:
            item["mask"] = hwc_to_chw(arrays[2])
        return item
