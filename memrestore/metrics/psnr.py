"""Peak signal-to-noise ratio on the 0..255 scale."""

from __future__ import annotations

import numpy as np


def mse_to_psnr(mse: float) -> float:
    """PSNR in dB for a mean squared error on the 0..255 scale (``inf`` when it is zero)."""
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(255.0**2 / mse))


def psnr_255(pred: np.ndarray, target: np.ndarray) -> float:
    """PSNR in dB of two float arrays on the 0..255 scale."""
    diff = (pred - target).ravel()
    return mse_to_psnr(float(diff @ diff) / diff.size)
