"""Raindrops on a window or lens, rendered as small refracting lenses (after Qian et al., CVPR 2018,
and the physical drop models of Roser & Geiger 2009 / Halimeh & Roser 2009).

Each drop is a spherical cap sitting on the glass: its thickness profile h = sqrt(1 - r^2) inside a
(slightly elliptical) footprint. A cap acts as a fish-eye lens: the background seen through it is
displaced along the thickness gradient (towards an inverted, shrunken view of the surroundings) and,
because the camera focuses on the scene and not on the glass, it is blurred. Drops are composited
with a soft edge (alpha from the thickness, so they fade in over a thin rim), slightly brightened
(specular light inside the drop) with a darker rim where refraction bends light away. The returned
mask is where drops cover the glass (alpha > 0.5), the attention map Qian et al. learn to predict.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class RaindropParams:
    """Number of drops, radius range (fraction of the shorter side), refraction strength (fraction of
    the radius the view is displaced at the rim), background blur inside drops (px) and the defocus
    blur of the whole drop layer (px)."""

    count: int = 60
    radius: tuple[float, float] = (0.01, 0.04)
    refraction: float = 1.5
    inner_blur: float = 2.0
    defocus: float = 1.0


def sample_raindrop_params(rng: np.random.Generator, count: tuple[int, int] = (80, 240),
                           radius_max: tuple[float, float] = (0.03, 0.08), refraction: tuple[float, float] = (1.0, 2.5),
                           defocus: tuple[float, float] = (0.5, 2.0)) -> RaindropParams:
    top = float(rng.uniform(*radius_max))
    return RaindropParams(int(rng.integers(count[0], count[1] + 1)), (top / 4, top), float(rng.uniform(*refraction)),
                          float(rng.uniform(1.0, 4.0)), float(rng.uniform(*defocus)))


def drop_thickness(height: int, width: int, params: RaindropParams, rng: np.random.Generator) -> np.ndarray:
    """HxW thickness map in [0, 1]: the maximum of the drops' spherical caps (drops merge, not add)."""
    side = min(height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    thickness = np.zeros((height, width), np.float32)
    for _ in range(params.count):
        radius = rng.uniform(*params.radius) * side
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        squash = rng.uniform(0.75, 1.0)  # gravity flattens drops vertically
        angle = rng.uniform(-0.3, 0.3)
        x0, x1 = int(max(0, cx - radius - 2)), int(min(width, cx + radius + 3))
        y0, y1 = int(max(0, cy - radius - 2)), int(min(height, cy + radius + 3))
        if x0 >= x1 or y0 >= y1:
            continue
        dx, dy = xx[y0:y1, x0:x1] - cx, yy[y0:y1, x0:x1] - cy
        u = (np.cos(angle) * dx + np.sin(angle) * dy) / radius
        v = (-np.sin(angle) * dx + np.cos(angle) * dy) / (radius * squash)
        cap = np.sqrt(np.clip(1.0 - (u * u + v * v), 0.0, 1.0))
        np.maximum(thickness[y0:y1, x0:x1], cap, out=thickness[y0:y1, x0:x1])
    return thickness


def add_raindrops(clean: np.ndarray, rng: np.random.Generator, params: RaindropParams | None = None,
                  ranges: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Image seen through a wet window, and the HxW binary drop mask, for a float HxWx3 image."""
    h, w = clean.shape[:2]
    params = params or sample_raindrop_params(rng, **(ranges or {}))
    image = clean.astype(np.float32)
    thickness = drop_thickness(h, w, params, rng)
    if not thickness.any():
        return image.copy(), np.zeros((h, w), np.float32)
    gy, gx = np.gradient(cv2.GaussianBlur(thickness, (0, 0), 1.0))
    scale = params.refraction * params.radius[1] * min(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x = (xx + gx * scale * 4).astype(np.float32)
    map_y = (yy + gy * scale * 4).astype(np.float32)
    blurred = cv2.GaussianBlur(image, (0, 0), params.inner_blur)
    refracted = cv2.remap(blurred, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    refracted = refracted * (1.0 + 0.15 * thickness[..., None]) + 0.03  # light gathered by the drop
    rim = np.clip(1.0 - thickness / 0.25, 0.0, 1.0) * (thickness > 0)
    refracted = refracted * (1.0 - 0.35 * rim[..., None])  # dark rim: light bent away at the edge
    alpha = np.clip(thickness / 0.15, 0.0, 1.0)
    if params.defocus > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), params.defocus)
        refracted = cv2.GaussianBlur(refracted, (0, 0), params.defocus * 0.5)
    alpha = alpha[..., None]
    rainy = image * (1.0 - alpha) + refracted * alpha
    return np.clip(rainy, 0.0, 1.0).astype(np.float32), (alpha[..., 0] > 0.5).astype(np.float32)
