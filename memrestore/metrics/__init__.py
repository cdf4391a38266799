"""Image-quality metrics with the evaluation conventions of the restoration literature.

Papers disagree on colour space, rounding and SSIM windows, and the choice moves numbers by up to
2 dB, so every figure memrestore prints is computed under a *named* convention:

=============  =========================================================================
``rgb``        PSNR on RGB; SSIM per channel (Wang ``ssim_index``), averaged. Dehazing (SOTS),
               BasicSR-style deblurring.
``y``          PSNR/SSIM on float BT.601 Y (BasicSR/mmagic ``test_y_channel``).
``y-matlab``   PSNR/SSIM on MATLAB ``rgb2ycbcr`` Y of uint8 images, rounded to uint8
               (Rain100L/H, Test100/1200/2800 deraining tables).
``rgb-matlab3d`` PSNR on RGB; SSIM = MATLAB ``ssim()`` on the RGB array (3-D Gaussian),
               as in NAFNet-style GoPro numbers.
``y-raindrop`` PSNR/SSIM on OpenCV full-range Y of uint8 images, SSIM with scikit-image's
               default 7x7 uniform window (the Raindrop benchmark script of Qian et al.).
``rgb-skimage7`` PSNR on RGB; SSIM = scikit-image's ``structural_similarity`` defaults (7x7
               uniform window, sample covariance) per RGB channel, averaged: the all-in-one
               papers (AirNet, PromptIR, AdaIR). Reads higher than ``rgb``'s Gaussian SSIM.
=============  =========================================================================

``crop_border`` pixels are removed from each side before either metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .color import rgb_to_y, rgb_to_y_opencv, to_255
from .psnr import mse_to_psnr, psnr_255
from .shadow import ShadowErrors, ShadowMAE, shadow_lab_errors
from .ssim import ssim_matlab3d, ssim_uniform7, ssim_wang


@dataclass(frozen=True)
class Convention:
    name: str
    description: str
    space: Callable[[np.ndarray], np.ndarray]
    ssim: Callable[[np.ndarray, np.ndarray], float]


def _rgb(image: np.ndarray) -> np.ndarray:
    return image


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("rgb", "RGB; SSIM per channel (Wang et al.), averaged", _rgb, ssim_wang),
        Convention("y", "float BT.601 Y (BasicSR/mmagic)", lambda im: rgb_to_y(im), ssim_wang),
        Convention("y-matlab", "MATLAB rgb2ycbcr Y on uint8, rounded", lambda im: rgb_to_y(im, True), ssim_wang),
        Convention("rgb-matlab3d", "RGB; SSIM = MATLAB ssim() on the RGB array (3-D)", _rgb, ssim_matlab3d),
        Convention("y-raindrop", "OpenCV full-range Y; SSIM 7x7 uniform (skimage default)", rgb_to_y_opencv, ssim_uniform7),
        Convention("rgb-skimage7", "RGB; SSIM 7x7 uniform per channel (skimage default; AirNet/PromptIR)", _rgb, ssim_uniform7),
    )
}


def _check(pred: np.ndarray, target: np.ndarray, convention: str) -> tuple[np.ndarray, np.ndarray, Convention]:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown metric convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    return pred, target, CONVENTIONS[convention]


def _check_border(shape: tuple[int, ...], border: int) -> None:
    if border < 0 or 2 * border >= min(shape[:2]):
        raise ValueError(f"crop border {border} leaves no pixels of a {shape[1]}x{shape[0]} image")


def _crop(image: np.ndarray, border: int) -> np.ndarray:
    _check_border(image.shape, border)
    return image[border:-border, border:-border] if border else image


def _prepare(pred: np.ndarray, target: np.ndarray, convention: str, crop_border: int) -> tuple[np.ndarray, np.ndarray, Convention]:
    pred, target, conv = _check(pred, target, convention)
    a = conv.space(to_255(_crop(pred, crop_border)))
    b = conv.space(to_255(_crop(target, crop_border)))
    return a, b, conv


def psnr(pred: np.ndarray, target: np.ndarray, convention: str = "rgb", crop_border: int = 0) -> float:
    """PSNR in dB under ``convention``; inputs uint8, uint16 or float in [0, 1], HxW or HxWxC.

    Streams over blocks of rows so a 12-megapixel pair needs no full-size float64 copies.
    """
    pred, target, conv = _check(pred, target, convention)
    pred, target = _crop(pred, crop_border), _crop(target, crop_border)
    rows = max(1, (1 << 18) // max(1, pred[0].size))
    squared_error, count = 0.0, 0
    for start in range(0, pred.shape[0], rows):
        a = conv.space(to_255(pred[start : start + rows]))
        b = conv.space(to_255(target[start : start + rows]))
        diff = (a - b).ravel()
        squared_error += float(diff @ diff)
        count += diff.size
    return mse_to_psnr(squared_error / count)


def ssim(pred: np.ndarray, target: np.ndarray, convention: str = "rgb", crop_border: int = 0) -> float:
    """SSIM under ``convention``; images must be at least 11x11 after cropping."""
    a, b, conv = _prepare(pred, target, convention, crop_border)
    return conv.ssim(a, b)


def psnr_ssim(pred: np.ndarray, target: np.ndarray, convention: str = "rgb", crop_border: int = 0) -> dict[str, float]:
    """Both metrics from one colour conversion."""
    a, b, conv = _prepare(pred, target, convention, crop_border)
    return {"psnr": psnr_255(a, b), "ssim": conv.ssim(a, b)}


__all__ = [
    "CONVENTIONS",
    "Convention",
    "ShadowErrors",
    "ShadowMAE",
    "psnr",
    "psnr_ssim",
    "shadow_lab_errors",
    "ssim",
]
