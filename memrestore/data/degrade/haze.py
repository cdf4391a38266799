"""Haze by the atmospheric scattering model, as RESIDE (Li et al., TIP 2019) renders it.

I = J * t + A * (1 - t),  t = exp(-beta * d)

with J the clean image, d the scene depth, A the global atmospheric light and beta the scattering
coefficient. RESIDE's indoor training set draws A uniformly in [0.7, 1.0] and beta in [0.6, 1.8],
with depth from the NYU-Depth-v2 maps. Photos without a depth map get a pseudo-depth: distance grows
towards the top of the frame (ground near, sky far) and with low-frequency structure of the image,
normalised to [0, 1], lifted so its nearest point is ``near`` times its farthest (a room's nearest
wall is not at the camera), and scaled by ``depth_scale`` (RESIDE's depths are metres, ~1-10 m indoors).
``haze_fit`` measures A, the far optical depth beta * depth_scale and ``near`` on real pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from ...errors import MemrestoreError
from .colour import grey


@dataclass(frozen=True)
class HazeParams:
    """Scattering coefficient ``beta`` (per depth unit), atmospheric light ``airlight``, and the
    pseudo-depth's nearest point as a fraction ``near`` of its farthest."""

    beta: float = 1.0
    airlight: float = 0.85
    near: float = 0.0


def sample_haze_params(rng: np.random.Generator, beta: tuple[float, float] = (0.6, 1.8),
                       airlight: tuple[float, float] = (0.7, 1.0), near: tuple[float, float] = (0.0, 0.0)) -> HazeParams:
    """RESIDE-ITS ranges by default. ``near`` is drawn only when its range is not one value, so presets
    without it render exactly what they rendered before it existed."""
    drawn = HazeParams(float(rng.uniform(*beta)), float(rng.uniform(*airlight)))
    return HazeParams(drawn.beta, drawn.airlight, float(near[0] if near[0] == near[1] else rng.uniform(*near)))


def pseudo_depth(clean: np.ndarray, rng: np.random.Generator, smooth: float = 0.08) -> np.ndarray:
    """A plausible HxW depth in [0, 1]: a vertical ramp (far at the top), tilted at random, plus
    heavily smoothed image brightness (bright, low-texture regions such as sky read as far)."""
    h, w = clean.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    tilt = rng.uniform(-0.3, 0.3)
    ramp = 1.0 - (yy / max(h - 1, 1)) + tilt * (xx / max(w - 1, 1) - 0.5)
    sigma = smooth * max(h, w)
    structure = cv2.GaussianBlur(grey(clean), (0, 0), sigma)
    depth = 0.7 * ramp + 0.3 * structure
    depth -= depth.min()
    return (depth / max(float(depth.max()), 1e-6)).astype(np.float32)


def read_depth(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """Depth from a ``.npy`` array or a grey image (any bit depth), resized to ``shape`` (H, W)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        depth = np.load(path, allow_pickle=False).astype(np.float32)
    else:
        from ...io import read_image, to_float_rgb

        depth = to_float_rgb(read_image(path)).mean(axis=2)
    if depth.ndim != 2:
        raise MemrestoreError(f"{path}: depth must be a single-channel HxW map, got shape {depth.shape}")
    if depth.shape != shape:
        depth = cv2.resize(depth, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return depth


def add_haze(clean: np.ndarray, rng: np.random.Generator, params: Optional[HazeParams] = None,
             depth: Optional[np.ndarray] = None, depth_scale: float = 1.5, ranges: Optional[dict] = None) -> np.ndarray:
    """Hazy version of a float HxWx3 image in [0, 1]. ``depth`` (HxW, already in depth units) is
    used as given (``params.near`` does not apply); otherwise a pseudo-depth in [0, 1], its nearest
    point lifted to ``params.near``, is scaled by ``depth_scale``."""
    params = params or sample_haze_params(rng, **(ranges or {}))
    if depth is None:
        depth = (params.near + (1.0 - params.near) * pseudo_depth(clean, rng)) * depth_scale
    t = np.exp(-params.beta * depth.astype(np.float32))[..., None]
    hazy = clean.astype(np.float32) * t + params.airlight * (1.0 - t)
    return np.clip(hazy, 0.0, 1.0).astype(np.float32)
