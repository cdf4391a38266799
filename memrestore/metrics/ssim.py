"""Structural similarity (Wang et al., IEEE TIP 2004), two published variants.

* ``ssim_wang``: the authors' ``ssim_index.m``: 11x11 Gaussian window (sigma 1.5), valid filtering
  (no padding), C1 = (0.01 L)^2, C2 = (0.03 L)^2, population statistics; for a colour image it is
  computed per channel and averaged (the BasicSR/mmagic convention).
* ``ssim_matlab3d``: MATLAB's ``ssim()`` applied to the whole HxWx3 array, which filters with a 3-D
  Gaussian (``imgaussfilt3``, 11x11x11, sigma 1.5, replicate padding) and averages the full-size map.
  NAFNet-style GoPro numbers are computed this way.
* ``ssim_uniform7``: scikit-image's ``structural_similarity`` defaults, used by the Raindrop
  benchmark script (Qian et al.): 7x7 uniform window, sample covariance (N/(N-1)), valid region.

Filtering is separable (scipy ``correlate1d``), so the cost is linear in the window size.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

_C1 = (0.01 * 255.0) ** 2
_C2 = (0.03 * 255.0) ** 2


def gaussian_taps(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(x**2) / (2.0 * sigma**2))
    return taps / taps.sum()


def _ssim_map(
    a: np.ndarray, b: np.ndarray, axes: tuple[int, ...], taps: np.ndarray, cov_scale: float = 1.0
) -> np.ndarray:
    def blur(x: np.ndarray) -> np.ndarray:
        for axis in axes:
            x = correlate1d(x, taps, axis=axis, mode="nearest")
        return x

    mu_a, mu_b = blur(a), blur(b)
    var_a = (blur(a * a) - mu_a**2) * cov_scale
    var_b = (blur(b * b) - mu_b**2) * cov_scale
    cov = (blur(a * b) - mu_a * mu_b) * cov_scale
    numerator = (2 * mu_a * mu_b + _C1) * (2 * cov + _C2)
    denominator = (mu_a**2 + mu_b**2 + _C1) * (var_a + var_b + _C2)
    return numerator / denominator


def _valid_mean(pred: np.ndarray, target: np.ndarray, taps: np.ndarray, cov_scale: float = 1.0) -> float:
    size = taps.size
    if min(pred.shape[:2]) < size:
        raise ValueError(f"SSIM needs images of at least {size}x{size} pixels, got {pred.shape[:2]}")
    ssim_map = _ssim_map(pred, target, axes=(0, 1), taps=taps, cov_scale=cov_scale)
    r = size // 2
    valid = ssim_map[r : ssim_map.shape[0] - r, r : ssim_map.shape[1] - r]
    return float(valid.mean())  # mean over pixels, then channels (equal counts: same as one mean)


def ssim_wang(pred: np.ndarray, target: np.ndarray, size: int = 11, sigma: float = 1.5) -> float:
    """Mean SSIM with valid filtering, per channel then averaged; inputs on the 0..255 scale."""
    return _valid_mean(pred, target, gaussian_taps(size, sigma))


def ssim_uniform7(pred: np.ndarray, target: np.ndarray) -> float:
    """scikit-image's default SSIM: 7x7 uniform window, sample covariance, valid region."""
    n = 7 * 7
    return _valid_mean(pred, target, np.full(7, 1.0 / 7.0), cov_scale=n / (n - 1))


def ssim_matlab3d(pred: np.ndarray, target: np.ndarray, sigma: float = 1.5) -> float:
    """MATLAB ``ssim(A, ref)`` on an N-D array: 3-D Gaussian with replicate padding, full-map mean."""
    size = 2 * int(np.ceil(3 * sigma)) + 1  # MATLAB's default filter size
    axes = tuple(range(pred.ndim))
    return float(_ssim_map(pred, target, axes=axes, taps=gaussian_taps(size, sigma)).mean())
