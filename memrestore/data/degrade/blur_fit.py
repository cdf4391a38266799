"""Motion-blur parameters measured on real blurred/sharp pairs, to fit the blur renderer's ranges.

Real motion blur (GoPro: averaged video frames) varies across the image, so a pair is cut into tiles
and a blur kernel is estimated on each textured tile by regularised least squares in the Fourier
domain on image gradients (gradients keep the estimate away from flat regions' ambiguity; Levin et
al., CVPR 2009, Sec. 4, estimate kernels from sharp/blurred pairs the same way). Per tile:

* length: the kernel's extent along its principal axis, sqrt(12 x its largest positional variance)
  (a straight path of L px reads L), turned into the renderer's trajectory ``length`` by matching the
  same statistic on kernels the renderer draws (simulated moments, as ``rain_fit`` does for streaks);
* noise: the RMS of what the kernel leaves unexplained (an upper bound of the sensor noise: it also
  holds blur that varies within a tile);
* domain: whether the blur is explained better in stored sRGB values (GoPro's ``blur`` folder) or in
  linear light (``blur_gamma``), by which domain leaves the smaller residual over all tiles.

``fit_ranges`` widens the tiles' estimates into ``sample_blur_params`` ranges; the trajectory's
``anxiety`` (how much the path bends) is not identifiable from a handful of tiles and keeps its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

import cv2
import numpy as np
from scipy import ndimage

from .blur import apply_kernel, sample_blur_params, shake_trajectory, trajectory_kernel
from .colour import grey, srgb_to_linear
from .fitting import Fitter, Rounded, widened_range

TILE = 256  # side of the tiles a kernel is estimated on
KERNEL = 63  # side of the estimated kernels: blur up to ~60 px
MIN_TEXTURE = 0.02  # tiles whose mean gradient magnitude is below this carry no kernel information
LENGTHS = (1.0, 60.0)  # the renderer's trajectory lengths the statistic is matched over


@dataclass(frozen=True)
class BlurEstimate(Rounded):
    """The renderer's trajectory ``length`` over one pair's tiles (10th percentile, median, 90th), the
    median RMS residual of the tiles' kernels applied in stored sRGB values and in linear light, and
    the number of tiles used."""

    length_low: float
    length: float
    length_high: float
    srgb_residual: float
    linear_residual: float
    tiles: int

    @property
    def linear(self) -> bool:
        """Whether linear light explains the blur better than the stored values."""
        return self.linear_residual < self.srgb_residual

    @property
    def noise(self) -> float:
        return min(self.srgb_residual, self.linear_residual)


def estimate_kernel(blurred: np.ndarray, sharp: np.ndarray, size: int = KERNEL, regulariser: float = 1e-3) -> np.ndarray:
    """The size x size non-negative kernel (sum 1) that best maps ``sharp`` to ``blurred`` (grey HxW
    tiles), estimated on their x and y gradients under a Hann window; values below 5 % of the peak and
    specks not connected to the peak's path are the estimate's ringing and are dropped."""
    window = np.outer(np.hanning(sharp.shape[0]), np.hanning(sharp.shape[1])).astype(np.float32)
    numerator, denominator = 0.0, 0.0
    for dx, dy in ((1, 0), (0, 1)):
        gs = cv2.Sobel(sharp, cv2.CV_32F, dx, dy, ksize=3) * window
        gb = cv2.Sobel(blurred, cv2.CV_32F, dx, dy, ksize=3) * window
        fs, fb = np.fft.fft2(gs), np.fft.fft2(gb)
        numerator = numerator + np.conj(fs) * fb
        denominator = denominator + np.abs(fs) ** 2
    spectrum = numerator / (denominator + regulariser * float(denominator.mean()))
    full = np.fft.fftshift(np.real(np.fft.ifft2(spectrum)))
    cy, cx, half = full.shape[0] // 2, full.shape[1] // 2, size // 2
    kernel = np.clip(full[cy - half:cy + half + 1, cx - half:cx + half + 1], 0.0, None)
    kernel[kernel < 0.05 * kernel.max()] = 0.0  # the estimate's ringing, not blur
    labels, _ = ndimage.label(ndimage.binary_dilation(kernel > 0, iterations=2))
    kernel[labels != labels[np.unravel_index(np.argmax(kernel), kernel.shape)]] = 0.0  # specks apart from the path
    return (kernel / max(float(kernel.sum()), 1e-12)).astype(np.float32)


def kernel_extent(kernel: np.ndarray) -> float:
    """sqrt(12 x the kernel's largest positional variance): the length of a straight path that spreads as far."""
    yy, xx = np.mgrid[0:kernel.shape[0], 0:kernel.shape[1]].astype(np.float64)
    w = kernel.astype(np.float64) / max(float(kernel.sum()), 1e-12)
    mx, my = (w * xx).sum(), (w * yy).sum()
    cxx, cyy, cxy = (w * (xx - mx) ** 2).sum(), (w * (yy - my) ** 2).sum(), (w * (xx - mx) * (yy - my)).sum()
    largest = 0.5 * (cxx + cyy) + np.sqrt(0.25 * (cxx - cyy) ** 2 + cxy ** 2)
    return float(np.sqrt(12.0 * largest))


@lru_cache(maxsize=1)
def _extent_curve(seeds: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The mean ``kernel_extent`` of the renderer's kernels per trajectory length (increasing)."""
    lengths = np.linspace(*LENGTHS, 40)
    extents = []
    for length in lengths:
        values = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            params = sample_blur_params(rng, length=(length, length))
            values.append(kernel_extent(trajectory_kernel(shake_trajectory(rng, length, anxiety=params.anxiety),
                                                          params.size)))
        extents.append(np.mean(values))
    return lengths, np.maximum.accumulate(np.array(extents))


def renderer_length(extent: float) -> float:
    """The renderer's trajectory length whose kernels spread as far as ``extent``."""
    lengths, extents = _extent_curve()
    return float(np.interp(extent, extents, lengths))


def _tiles(shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """Top-left corners of the tiles (none when the image is under two kernels across: no room)."""
    h, w = shape[:2]
    tile = min(TILE, h, w)
    if tile < 2 * KERNEL:
        return []
    return [(y, x) for y in range(0, h - tile + 1, tile) for x in range(0, w - tile + 1, tile)]


def _tile_kernels(blurred: np.ndarray, sharp: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, dict[bool, np.ndarray]]]:
    """For each textured tile: (blurred tile, sharp tile, {linear: kernel}) with the kernel estimated in
    stored sRGB values (False) and in linear light (True)."""
    tile = min(TILE, *blurred.shape[:2])
    for y, x in _tiles(blurred.shape):
        bt, st = blurred[y:y + tile, x:x + tile].astype(np.float32), sharp[y:y + tile, x:x + tile].astype(np.float32)
        if np.abs(np.gradient(grey(st))).mean() < MIN_TEXTURE:
            continue
        yield bt, st, {linear: estimate_kernel(*(grey(srgb_to_linear(v) if linear else v) for v in (bt, st)))
                       for linear in (False, True)}


def estimate_blur(blurred: np.ndarray, sharp: np.ndarray) -> BlurEstimate:
    """Per-tile kernels of one float HxWx3 blurred/sharp pair, summarised in the renderer's units."""
    margin = KERNEL // 2  # tile borders are reflected, not real neighbours
    extents: dict[bool, list[float]] = {False: [], True: []}
    residuals: dict[bool, list[float]] = {False: [], True: []}
    for bt, st, kernels in _tile_kernels(blurred, sharp):
        for linear, kernel in kernels.items():
            explained = apply_kernel(st, kernel, linear=linear)
            residuals[linear].append(float(np.sqrt(np.mean((explained - bt)[margin:-margin, margin:-margin] ** 2))))
            extents[linear].append(kernel_extent(kernel))
    if not extents[False]:
        return BlurEstimate(0.0, 0.0, 0.0, 0.0, 0.0, 0)
    linear = bool(np.mean(residuals[True]) < np.mean(residuals[False]))
    low, middle, high = (renderer_length(v) for v in np.quantile(extents[linear], [0.1, 0.5, 0.9]))
    return BlurEstimate(length_low=low, length=middle, length_high=high, srgb_residual=float(np.median(residuals[False])),
                        linear_residual=float(np.median(residuals[True])), tiles=len(extents[linear]))


# The least widening of the length range on each side (``fitting.widened_range``), and the renderer's limits.
MARGIN = ("relative", 0.2)
BOUNDS = (2.0, LENGTHS[1])
MAX_NOISE = 0.01  # the residual bounds sensor noise from above; the renderer's default range ends here


def fit_ranges(estimates: list[BlurEstimate], widen: float = 0.25) -> dict:
    """``sample_blur_params`` ranges: trajectory lengths covering every pair's tiles (their 10th-90th
    percentiles, widened), noise from 0 to
    the pairs' median residual (at most ``MAX_NOISE``), and the domain most pairs' blur was explained in."""
    if not estimates:
        raise ValueError("no blur estimates to fit")
    low, high = widened_range([min(e.length_low for e in estimates), max(e.length_high for e in estimates)], widen,
                              MARGIN, BOUNDS)
    noise = min(float(np.median([e.noise for e in estimates])), MAX_NOISE)
    linear = sum(e.linear for e in estimates) * 2 > len(estimates)
    return {"length": [round(float(low), 3), round(float(high), 3)], "noise": [0.0, round(noise, 5)], "linear": linear}


def _left_out(estimate: BlurEstimate) -> Optional[str]:
    if estimate.tiles == 0:
        return (f"no textured tile to estimate a kernel on (tiles of at least {2 * KERNEL} px whose mean gradient "
                f"reaches {MIN_TEXTURE})")
    if estimate.length_high < BOUNDS[0]:
        return "no motion blur (kernels narrower than 2 px)"
    return None


def _preview(blurred: np.ndarray, sharp: np.ndarray, estimate: BlurEstimate) -> tuple[np.ndarray, np.ndarray]:
    """Real kernels of the first textured tiles, in the domain that explained the pair, beside kernels
    the renderer draws at the pair's median length."""
    real, rendered = [], []
    for k, (_, _, kernels) in zip(range(4), _tile_kernels(blurred, sharp)):
        kernel = kernels[estimate.linear]
        real.append(kernel / max(float(kernel.max()), 1e-12))
        drawn = trajectory_kernel(shake_trajectory(np.random.default_rng(k), estimate.length), KERNEL)
        rendered.append(drawn / max(float(drawn.max()), 1e-12))
    if not real:
        return np.zeros((KERNEL, KERNEL, 3), np.float32), np.zeros((KERNEL, KERNEL, 3), np.float32)
    return tuple(np.repeat(np.concatenate(row, axis=1)[..., None], 3, axis=2) for row in (real, rendered))


FITTER = Fitter(what="motion blur", range_keys=frozenset({"length", "noise", "linear", "grid"}), estimate=estimate_blur,
                left_out=_left_out, fit_ranges=fit_ranges, preview=_preview, preview_rows=("real kernels", "rendered"),
                choices={"linear": (True, False)}, counts=frozenset({"grid"}))
