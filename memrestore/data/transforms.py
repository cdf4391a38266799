"""Paired training transforms: the same random crop and dihedral augmentation for every array."""

from __future__ import annotations

import numpy as np


def paired_random_crop(arrays: list[np.ndarray], size: int, rng: np.random.Generator,
                       mask: np.ndarray | None = None, focus: float = 0.0) -> list[np.ndarray]:
    """Crop the same ``size`` x ``size`` window from HxW[xC] arrays of equal size. Mask-aware: with
    probability ``focus`` the window is centred (as far as the borders allow) on a random pixel where
    ``mask`` (HxW[x1]) is set, so sparse degradations such as small shadows are seen often enough."""
    h, w = arrays[0].shape[:2]
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    if mask is not None and focus > 0 and rng.random() < focus:
        ys, xs = np.nonzero(mask.reshape(h, w) > 0.5)
        if ys.size:
            k = int(rng.integers(0, ys.size))
            top = int(np.clip(ys[k] - size // 2, 0, h - size))
            left = int(np.clip(xs[k] - size // 2, 0, w - size))
    return [a[top : top + size, left : left + size] for a in arrays]


def paired_dihedral(arrays: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Apply one of the 8 flips/rotations (chosen at random) to all arrays."""
    k = int(rng.integers(0, 4))
    flip = bool(rng.integers(0, 2))
    out = []
    for a in arrays:
        a = np.rot90(a, k)
        out.append(np.ascontiguousarray(a[:, ::-1] if flip else a))
    return out
