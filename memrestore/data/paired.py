"""Paired folders: ``ROOT/input/NAME`` (degraded) and ``ROOT/target/NAME`` (clean), matched by stem.

The reader states what it found and fails loudly (naming the files) on an empty folder, an
unmatched file or a size mismatch, so a half-copied dataset is never trained on silently.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import MemrestoreError
from ..io import read_image, to_float_rgb
from .pairing import match_pairs
from .transforms import paired_dihedral, paired_random_crop

log = logging.getLogger(__name__)


class PairedImageDataset(Dataset):
    """Training patches (``patch_size > 0``) or whole images (``patch_size == 0``) from paired folders.

    With patches, item ``i`` (any non-negative integer: samplers encode the epoch in it) is a random
    crop of image ``i % len(pairs)`` drawn from a generator seeded by ``(seed, i)``, so a run is
    reproducible whatever the number of loader workers, and resumable from any position.
    """

    def __init__(
        self,
        root: str | Path,
        input_dir: str = "input",
        target_dir: str = "target",
        patch_size: int = 0,
        augment: bool = False,
        cache: bool = True,
        seed: int = 0,
        repeats: int = 1,
    ) -> None:
        self.pairs = match_pairs(Path(root) / input_dir, Path(root) / target_dir)
        self.patch_size = patch_size
        self.augment = augment
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None
        self.seed = seed
        self.repeats = max(1, repeats)
        log.info("%s: %d pairs", root, len(self.pairs))

    def __len__(self) -> int:
        return len(self.pairs) * (self.repeats if self.patch_size else 1)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Float32 HxWx3 input and target of pair ``index`` (cached when enabled)."""
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        pair = self.pairs[index]
        degraded, clean = to_float_rgb(read_image(pair.input)), to_float_rgb(read_image(pair.target))
        if degraded.shape != clean.shape:
            raise MemrestoreError(
                f"{pair.input} is {degraded.shape[1]}x{degraded.shape[0]} but {pair.target} is "
                f"{clean.shape[1]}x{clean.shape[0]}"
            )
        if self.patch_size and min(clean.shape[:2]) < self.patch_size:
            raise MemrestoreError(f"{pair.input}: smaller than patch_size {self.patch_size}")
        if self.cache is not None:
            self.cache[index] = (degraded, clean)
        return degraded, clean

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | str]:
        index = i % len(self.pairs)
        degraded, clean = self.load(index)
        if self.patch_size:
            rng = np.random.default_rng((self.seed, i))
            degraded, clean = paired_random_crop([degraded, clean], self.patch_size, rng)
            if self.augment:
                degraded, clean = paired_dihedral([degraded, clean], rng)
        to_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))
        return {"input": to_tensor(degraded), "target": to_tensor(clean), "name": self.pairs[index].name}
