"""Cast shadows: soft occluder masks and a per-channel illumination ratio (ISTD-like colour cast).

A shadowed pixel loses the direct (sun) light and keeps the ambient (sky) light, so its colour is
the shadow-free colour times a ratio per channel that is below 1 and larger in blue than in red
(the sky is blue): the linear shadow model of Le & Samaras (ICCV 2019, ISTD+), I = J * (1 - m + m * r)
with ``m`` the soft mask. The penumbra is the blur of the occluder outline (its width grows with the
occluder's distance from the surface); the mask returned is the binary umbra+penumbra (m > 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ShadowParams:
    """Illumination ratio per RGB channel inside the shadow, and penumbra width (Gaussian sigma as a
    fraction of the image's shorter side)."""

    ratio: tuple[float, float, float] = (0.35, 0.42, 0.55)
    penumbra: float = 0.01


def sample_shadow_params(rng: np.random.Generator, darkness: tuple[float, float] = (0.25, 0.6),
                         blue_cast: tuple[float, float] = (1.0, 1.5), penumbra: tuple[float, float] = (0.003, 0.02)) -> ShadowParams:
    """Red ratio in ``darkness``; green and blue raised by part/all of a ``blue_cast`` factor."""
    red = rng.uniform(*darkness)
    cast = rng.uniform(*blue_cast)
    ratio = (red, min(1.0, red * (1 + (cast - 1) / 2)), min(1.0, red * cast))
    return ShadowParams(tuple(float(r) for r in ratio), float(rng.uniform(*penumbra)))


def occluder_mask(height: int, width: int, rng: np.random.Generator, shapes: int | None = None) -> np.ndarray:
    """Binary HxW mask of 1-3 random occluder shadows: irregular polygons from a jittered ellipse,
    stretched along a common light direction (shadows of one scene share the sun)."""
    mask = np.zeros((height, width), np.uint8)
    count = shapes if shapes is not None else int(rng.integers(1, 4))
    direction = rng.uniform(0, np.pi)
    side = min(height, width)
    for _ in range(count):
        cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        major, minor = rng.uniform(0.2, 0.45) * side, rng.uniform(0.08, 0.25) * side
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(7, 14))))
        radius = rng.uniform(0.7, 1.15, angles.size)
        x = major * radius * np.cos(angles)
        y = minor * radius * np.sin(angles)
        c, s = np.cos(direction), np.sin(direction)
        points = np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(np.float32)


def add_shadow(clean: np.ndarray, rng: np.random.Generator, params: ShadowParams | None = None,
               mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shadowed image and its binary HxW mask for a float HxWx3 image in [0, 1]."""
    h, w = clean.shape[:2]
    params = params or sample_shadow_params(rng)
    hard = occluder_mask(h, w, rng) if mask is None else (mask > 0.5).astype(np.float32)
    sigma = params.penumbra * min(h, w)
    soft = cv2.GaussianBlur(hard, (0, 0), sigma) if sigma > 0 else hard
    soft = soft[..., None]
    ratio = np.asarray(params.ratio, np.float32)
    shadowed = clean.astype(np.float32) * (1.0 - soft + soft * ratio)
    return np.clip(shadowed, 0.0, 1.0).astype(np.float32), (soft[..., 0] > 0.5).astype(np.float32)
