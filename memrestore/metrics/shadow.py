"""Shadow-removal error of the ISTD benchmark (Wang et al. CVPR 2018 evaluation script).

The field calls it "RMSE" but it is a mean absolute error in CIE L*a*b*: both images are resized to
256x256 (bicubic, on floats in [0, 1]), converted sRGB -> LAB (D65 white), and |delta| is summed over
L, a and b per pixel. It is reported for the shadow region, the non-shadow region and all pixels. The
shadow region is every pixel where the (bicubic-resized) mask is non-zero, as in the script's
``nmask = ~m``. Two averages are in use and both are given: the mean of per-image MAEs, and the
per-pixel total (sum of all errors over sum of all pixels in the set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .color import srgb_to_lab, to_255

REGIONS = ("all", "non_shadow", "shadow")
ISTD_SIZE = 256


def _resize_float(image01: np.ndarray, size: int) -> np.ndarray:
    """Bicubic resize of each channel with antialiasing (PIL 'F' mode, like MATLAB imresize)."""
    channels = image01 if image01.ndim == 3 else image01[..., None]
    out = [
        np.asarray(Image.fromarray(channels[..., c].astype(np.float32), mode="F").resize((size, size), Image.BICUBIC))
        for c in range(channels.shape[-1])
    ]
    return np.stack(out, axis=-1).astype(np.float64)


@dataclass
class ShadowErrors:
    """Summed LAB absolute error and pixel count per region for one image."""

    error_sum: dict[str, float]
    pixels: dict[str, int]

    def mae(self, region: str) -> float:
        n = self.pixels[region]
        return self.error_sum[region] / n if n else float("nan")


def shadow_lab_errors(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, size: int = ISTD_SIZE) -> ShadowErrors:
    """LAB absolute-error sums of ``pred`` vs ``target`` in each region given by ``mask``."""
    pred_lab = srgb_to_lab(np.clip(_resize_float(to_255(pred) / 255.0, size), 0.0, 1.0))
    target_lab = srgb_to_lab(np.clip(_resize_float(to_255(target) / 255.0, size), 0.0, 1.0))
    mask01 = to_255(mask) / 255.0
    if mask01.ndim == 3:
        mask01 = mask01.max(axis=-1)
    shadow = _resize_float(mask01, size)[..., 0] > 1e-6
    per_pixel = np.abs(pred_lab - target_lab).sum(axis=-1)
    regions = {"all": np.ones_like(shadow), "non_shadow": ~shadow, "shadow": shadow}
    return ShadowErrors(
        error_sum={k: float(per_pixel[m].sum()) for k, m in regions.items()},
        pixels={k: int(m.sum()) for k, m in regions.items()},
    )


@dataclass
class ShadowMAE:
    """Accumulates ``ShadowErrors`` over a test set and reports both averaging conventions."""

    images: list[ShadowErrors] = field(default_factory=list)

    def add(self, errors: ShadowErrors) -> None:
        self.images.append(errors)

    def per_image_mean(self) -> dict[str, float]:
        return {r: float(np.nanmean([e.mae(r) for e in self.images])) for r in REGIONS}

    def per_pixel_total(self) -> dict[str, float]:
        return {
            r: sum(e.error_sum[r] for e in self.images) / max(1, sum(e.pixels[r] for e in self.images))
            for r in REGIONS
        }
