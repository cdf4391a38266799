"""Colour conversions the renderers and their fitting tools share: the sRGB transfer curve (IEC
61966-2-1) and grey (luma, ITU-R BT.601 weights, as OpenCV's RGB2GRAY) of float HxWx3 images in [0, 1]."""

from __future__ import annotations

import cv2
import numpy as np


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    return np.where(image <= 0.04045, image / 12.92, ((image + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(image: np.ndarray) -> np.ndarray:
    image = np.clip(image, 0.0, 1.0)
    return np.where(image <= 0.0031308, image * 12.92, 1.055 * image ** (1 / 2.4) - 0.055).astype(np.float32)


def grey(image: np.ndarray) -> np.ndarray:
    """HxW float32 luma of an RGB image."""
    return cv2.cvtColor(np.ascontiguousarray(image.astype(np.float32)), cv2.COLOR_RGB2GRAY)
