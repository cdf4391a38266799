"""Camera-shake motion blur: random trajectories rendered to kernels, and GoPro-style frame averaging.

Trajectories follow Boracchi & Foi ("Modeling the performance of image restoration from motion
blur", TIP 2012), the generator DeblurGAN also uses: a 2-D path sampled at ``steps`` instants whose
velocity has inertia, a random Gaussian acceleration, a pull back towards the start (centripetal
term) and rare impulsive jerks; its length is normalised to ``length`` pixels. The kernel is the
time the sensor spends at each position: path samples splatted bilinearly onto a grid, normalised to
sum 1. By default blurring happens in linear light (sRGB decoded), as a real exposure integrates
photons; ``linear=False`` blurs the stored sRGB values instead, as the ``blur`` folder of GoPro_Large
does (Nah et al., CVPR 2017, average consecutive sharp frames; their ``blur_gamma`` folder averages in
linear light). ``blur`` is the version MPRNet and most later deblurring work train and test on
(MPRNet issue #75, DeepRFT issue #46), and its pairs keep the mean brightness, whereas linear-light blur
brightens an sRGB photo by about 2 grey levels on average. ``average_frames`` renders GoPro's own recipe.

Real blur changes across a photo (a rotating camera, objects moving on their own): GoPro's kernels differ
several-fold in length from tile to tile (``blur_fit``). ``add_varying_motion_blur`` draws an n x n grid
of kernels, each from its own trajectory and length, and gives every pixel the bilinear interpolation of
its four nearest anchors' kernels, computed as the interpolation of the photo blurred by each kernel
(Nagy & O'Leary, "Restoring images degraded by spatially variant blur", SIAM J. Sci. Comput. 1998).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .colour import linear_to_srgb, srgb_to_linear


@dataclass(frozen=True)
class BlurParams:
    """Trajectory length (px), kernel size (odd, px), inertia/jitter ``anxiety``, noise sigma, and
    whether the kernel is applied in linear light."""

    length: float = 15.0
    size: int = 31
    anxiety: float = 0.005
    noise: float = 0.0
    linear: bool = True


def sample_blur_params(rng: np.random.Generator, length: tuple[float, float] = (4.0, 20.0),
                       anxiety: tuple[float, float] = (0.0, 0.01), noise: tuple[float, float] = (0.0, 0.01),
                       linear: bool = True) -> BlurParams:
    length_px = float(rng.uniform(*length))
    size = int(np.ceil(length_px * 1.3)) | 1
    return BlurParams(length_px, max(size, 5), float(rng.uniform(*anxiety)), float(rng.uniform(*noise)), linear)


def shake_trajectory(rng: np.random.Generator, length: float = 15.0, steps: int = 256, anxiety: float = 0.005,
                     centripetal: float = 0.4, gaussian: float = 10.0, jerk_chance: float = 0.02) -> np.ndarray:
    """``steps`` x 2 positions (x, y) of a camera-shake path of total arc length ``length`` px."""
    velocity = complex(*rng.normal(size=2))
    velocity /= abs(velocity) or 1.0
    position = [0j]
    for _ in range(steps - 1):
        jerk = 0j
        if rng.random() < jerk_chance * anxiety * 100:
            angle = rng.uniform(0, 2 * np.pi)
            jerk = 2 * velocity * complex(np.cos(angle), np.sin(angle))
        noise = complex(*rng.normal(size=2)) * gaussian * anxiety
        step = velocity + (noise - centripetal * position[-1] * 0.01 + jerk) * 0.1
        velocity = step / (abs(step) or 1.0)
        position.append(position[-1] + velocity)
    path = np.array(position)
    total = np.abs(np.diff(path)).sum()
    path = (path - path.mean()) * (length / total if total > 0 else 0.0)
    return np.stack([path.real, path.imag], axis=1).astype(np.float32)


def trajectory_kernel(trajectory: np.ndarray, size: int) -> np.ndarray:
    """Non-negative ``size`` x ``size`` kernel summing to 1 from a path centred on the origin."""
    if size % 2 == 0:
        raise ValueError(f"kernel size must be odd, got {size}")
    kernel = np.zeros((size, size), np.float64)
    centre = size // 2
    for x, y in trajectory:
        gx, gy = x + centre, y + centre
        x0, y0 = int(np.floor(gx)), int(np.floor(gy))
        fx, fy = gx - x0, gy - y0
        for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            xi, yi = x0 + dx, y0 + dy
            if 0 <= xi < size and 0 <= yi < size:
                kernel[yi, xi] += weight
    if kernel.sum() == 0:
        kernel[centre, centre] = 1.0
    return (kernel / kernel.sum()).astype(np.float32)


def apply_kernel(clean: np.ndarray, kernel: np.ndarray, linear: bool = True) -> np.ndarray:
    """Convolve each channel (reflected borders), in linear light when ``linear``."""
    image = srgb_to_linear(clean) if linear else clean.astype(np.float32)
    blurred = cv2.filter2D(image, -1, np.ascontiguousarray(kernel[::-1, ::-1]), borderType=cv2.BORDER_REFLECT)
    return linear_to_srgb(blurred) if linear else np.clip(blurred, 0.0, 1.0)


def add_motion_blur(clean: np.ndarray, rng: np.random.Generator, params: BlurParams | None = None,
                    ranges: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Blurred image and its kernel for a float HxWx3 image in [0, 1] (plus optional Gaussian noise)."""
    params = params or sample_blur_params(rng, **(ranges or {}))
    kernel = trajectory_kernel(shake_trajectory(rng, params.length, anxiety=params.anxiety), params.size)
    return with_noise(apply_kernel(clean, kernel, params.linear), rng, params.noise), kernel


def add_varying_motion_blur(clean: np.ndarray, rng: np.random.Generator, cells: int,
                            ranges: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Blur that varies across the photo: ``cells`` x ``cells`` anchor kernels (each with parameters
    drawn from ``ranges``; noise and domain from the first) blended bilinearly between anchor centres.
    Returns the blurred image and the kernels, ``cells`` x ``cells`` x S x S (centred, zero-padded to
    the largest size S)."""
    if cells < 1:
        raise ValueError(f"cells must be at least 1, got {cells}")
    params = [sample_blur_params(rng, **(ranges or {})) for _ in range(cells * cells)]
    kernels = [trajectory_kernel(shake_trajectory(rng, p.length, anxiety=p.anxiety), p.size) for p in params]
    height, width = clean.shape[:2]
    rows, cols = anchor_weights(height, cells), anchor_weights(width, cells)
    blurred = np.zeros(clean.shape, np.float32)
    for index, kernel in enumerate(kernels):
        weight = np.outer(rows[index // cells], cols[index % cells])[..., None]
        blurred += weight * apply_kernel(clean, kernel, params[0].linear)
    size = max(p.size for p in params)
    padded = np.stack([np.pad(k, (size - k.shape[0]) // 2) for k in kernels]).reshape(cells, cells, size, size)
    return with_noise(blurred, rng, params[0].noise), padded


def with_noise(blurred: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """``blurred`` plus Gaussian sensor noise of sigma ``noise`` (none drawn at 0), clipped to [0, 1]."""
    if noise > 0:
        blurred = blurred + rng.normal(0.0, noise, blurred.shape).astype(np.float32)
    return np.clip(blurred, 0.0, 1.0).astype(np.float32)


def anchor_weights(length: int, cells: int) -> np.ndarray:
    """``cells`` x ``length`` tent weights along one axis, one per anchor at its cell's centre, summing
    to 1 at every pixel (constant beyond the first and last centres)."""
    if cells == 1:
        return np.ones((1, length), np.float32)
    centres = (np.arange(cells) + 0.5) * length / cells
    position = np.clip(np.arange(length) + 0.5, centres[0], centres[-1])
    spacing = centres[1] - centres[0]
    return np.clip(1.0 - np.abs(position[None, :] - centres[:, None]) / spacing, 0.0, 1.0).astype(np.float32)


def average_frames(frames: Sequence[np.ndarray], linear: bool = True) -> np.ndarray:
    """GoPro-style blur: mean of consecutive sharp frames (in linear light when ``linear``)."""
    stack = np.stack([srgb_to_linear(f) if linear else f.astype(np.float32) for f in frames])
    mean = stack.mean(axis=0)
    return linear_to_srgb(mean) if linear else mean.astype(np.float32)
