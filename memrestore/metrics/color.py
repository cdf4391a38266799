"""Colour conversions used by the evaluation conventions.

All functions take arrays on the 0..255 scale (float64, see ``to_255``) unless stated otherwise.
"""

from __future__ import annotations

import numpy as np

# ITU-R BT.601 studio-range luma, as in MATLAB rgb2ycbcr: Y = 16 + 65.481 R + 128.553 G + 24.966 B
# for R, G, B in [0, 1].
BT601_Y = np.array([65.481, 128.553, 24.966])

# Linear sRGB (D65) -> CIE XYZ (IEC 61966-2-1, 7-digit form tabulated by B. Lindbloom); its row sums
# are the D65 reference white, so sRGB white maps to L*=100, a*=b*=0 exactly.
_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
D65_WHITE = _SRGB_TO_XYZ.sum(axis=1)


def to_255(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float64 on the 0..255 scale.

    uint8 is taken as is, uint16 is rescaled by 255/65535, floats are taken to be in [0, 1].
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    if image.dtype == np.uint16:
        return image.astype(np.float64) * (255.0 / 65535.0)
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float64) * 255.0
    raise TypeError(f"unsupported image dtype {image.dtype}; use uint8, uint16 or float in [0, 1]")


def quantize_uint8(image_255: np.ndarray) -> np.ndarray:
    """Round half away from zero and saturate to 0..255, as MATLAB's uint8 conversion does."""
    return np.clip(np.floor(image_255 + 0.5), 0, 255)


def rgb_to_y(image_255: np.ndarray, matlab_uint8: bool = False) -> np.ndarray:
    """BT.601 luma Y (16..235) of an HxWx3 RGB array on the 0..255 scale.

    ``matlab_uint8=False`` gives the float Y of BasicSR/mmagic. ``matlab_uint8=True`` reproduces
    MATLAB ``rgb2ycbcr`` on a uint8 image: the RGB input is first quantised to uint8, and Y is
    rounded to uint8 again.
    """
    if image_255.ndim == 2 or image_255.shape[-1] == 1:
        return image_255.reshape(image_255.shape[:2])  # already single-channel
    if matlab_uint8:
        image_255 = quantize_uint8(image_255)
    y = 16.0 + image_255[..., :3] @ (BT601_Y / 255.0)
    return quantize_uint8(y) if matlab_uint8 else y


def rgb_to_y_opencv(image_255: np.ndarray) -> np.ndarray:
    """Full-range luma of OpenCV ``cvtColor(RGB2YCrCb)`` on uint8 images.

    OpenCV computes 0.299 R + 0.587 G + 0.114 B in 14-bit fixed point (coefficients 4899, 9617,
    1868 over 2^14, rounded), which differs from float rounding by one level on some pixels.
    """
    if image_255.ndim == 2 or image_255.shape[-1] == 1:
        return image_255.reshape(image_255.shape[:2])
    rgb = quantize_uint8(image_255[..., :3]).astype(np.int64)
    y = (rgb @ np.array([4899, 9617, 1868]) + (1 << 13)) >> 14
    return y.astype(np.float64)


def srgb_to_lab(rgb01: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65 white) of an sRGB image given as floats in [0, 1], shape HxWx3."""
    rgb = np.asarray(rgb01, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _SRGB_TO_XYZ.T / D65_WHITE
    delta = 6.0 / 29.0
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4.0 / 29.0)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)
