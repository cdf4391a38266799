"""Haze by the atmospheric scattering model, as RESIDE (Li et al., TIP 2019) renders it.

I = J * t + A * (1 - t),  t = exp(-beta * d)

with J the clean image, d the scene depth, A the global atmospheric light and beta the scattering
coefficient. RESIDE's indoor training set draws A uniformly in [0.7, 1.0] and beta in [0.6, 1.8],
with depth from the NYU-Depth-v2 maps. Photos without a depth map get a pseudo-depth: distance grows
towards the top of the frame (ground near, sky far) and with low-frequency structure of the image,
normalised to [0, 1], lifted so its nearest point is ``near`` times its farthest (a room's nearest
wall is not at the camera), and scaled by ``depth_scale`` (RESIDE's depths are metres, ~1-10 m indoors).
With ``objects`` > 0 the ramp is replaced, by that weight, with depth that follows objects (see
``standing_regions``): real depth maps jump at object edges, a ramp never does.
``haze_fit`` measures A, the far optical depth beta * depth_scale and ``near`` on real pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from skimage.segmentation import felzenszwalb

from ...errors import MemrestoreError
from .colour import grey


@dataclass(frozen=True)
class HazeParams:
    """Scattering coefficient ``beta`` (per depth unit), atmospheric light ``airlight``, the
    pseudo-depth's nearest point as a fraction ``near`` of its farthest, and the weight ``objects`` of
    depth that follows objects against the smooth ramp (0: the ramp alone)."""

    beta: float = 1.0
    airlight: float = 0.85
    near: float = 0.0
    objects: float = 0.0


def _draw(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """One value of a range; a range of one value draws nothing (presets without it keep their renders)."""
    return float(bounds[0] if bounds[0] == bounds[1] else rng.uniform(*bounds))


def sample_haze_params(rng: np.random.Generator, beta: tuple[float, float] = (0.6, 1.8),
                       airlight: tuple[float, float] = (0.7, 1.0), near: tuple[float, float] = (0.0, 0.0),
                       objects: tuple[float, float] = (0.0, 0.0)) -> HazeParams:
    """RESIDE-ITS ranges by default. ``near`` and ``objects`` are drawn only when their range is not one
    value, so presets without them render exactly what they rendered before they existed."""
    scattering, light = float(rng.uniform(*beta)), float(rng.uniform(*airlight))
    return HazeParams(scattering, light, _draw(rng, near), _draw(rng, objects))


def standing_regions(clean: np.ndarray, floor: np.ndarray, rng: np.random.Generator, size: int = 320) -> np.ndarray:
    """Depth that follows objects: the photo cut into regions (Felzenszwalb and Huttenlocher's graph
    segmentation, IJCV 2004, at a random scale), each an upright surface standing on a floor whose depth
    is ``floor`` (HxW, far at the top): a region takes the floor's depth where it touches it, at its
    lowest row, as in Hoiem et al.'s "Automatic Photo Pop-up" (SIGGRAPH 2005). Regions reaching the
    bottom edge are the floor itself and keep its depth. So depth is flat across a chair or a table's
    front and jumps at its outline, as in the NYU depth maps behind RESIDE's indoor haze. Segmented at
    most ``size`` px on the long side (fast on any photo), the depth resized back to HxW."""
    h, w = clean.shape[:2]
    factor = min(1.0, size / max(h, w))
    sh, sw = max(1, round(h * factor)), max(1, round(w * factor))
    small = cv2.resize(clean, (sw, sh), interpolation=cv2.INTER_AREA) if factor < 1.0 else clean
    low_floor = cv2.resize(floor, (sw, sh), interpolation=cv2.INTER_AREA) if factor < 1.0 else floor
    labels = felzenszwalb(small, scale=float(rng.uniform(200.0, 800.0)), sigma=0.8, min_size=max(8, sh * sw // 200))
    rows = np.repeat(np.arange(sh), sw)
    flat = labels.ravel()
    lowest = np.zeros(flat.max() + 1, np.int64)
    np.maximum.at(lowest, flat, rows)
    # the floor's depth under each region: at its lowest row, in the middle of its pixels on that row
    on_lowest = rows == lowest[flat]
    width_sum = np.bincount(flat[on_lowest], weights=np.tile(np.arange(sw), sh)[on_lowest], minlength=lowest.size)
    width_count = np.bincount(flat[on_lowest], minlength=lowest.size)
    column = np.round(width_sum / np.maximum(width_count, 1)).astype(np.int64)
    standing = low_floor[lowest, column][labels]
    depth = np.where(lowest[labels] >= sh - 1, low_floor, standing).astype(np.float32)
    return cv2.resize(depth, (w, h), interpolation=cv2.INTER_LINEAR) if factor < 1.0 else depth


def pseudo_depth(clean: np.ndarray, rng: np.random.Generator, smooth: float = 0.08, objects: float = 0.0) -> np.ndarray:
    """A plausible HxW depth in [0, 1]: a vertical ramp (far at the top), tilted at random, plus
    heavily smoothed image brightness (bright, low-texture regions such as sky read as far). With
    ``objects`` > 0, that weight of the ramp is replaced by ``standing_regions`` on it."""
    h, w = clean.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    tilt = rng.uniform(-0.3, 0.3)
    ramp = 1.0 - (yy / max(h - 1, 1)) + tilt * (xx / max(w - 1, 1) - 0.5)
    if objects > 0.0:
        ramp = (1.0 - objects) * ramp + objects * standing_regions(clean, ramp, rng)
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
        depth = (params.near + (1.0 - params.near) * pseudo_depth(clean, rng, objects=params.objects)) * depth_scale
    t = np.exp(-params.beta * depth.astype(np.float32))[..., None]
    hazy = clean.astype(np.float32) * t + params.airlight * (1.0 - t)
    return np.clip(hazy, 0.0, 1.0).astype(np.float32)
