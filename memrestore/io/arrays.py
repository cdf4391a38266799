"""In-memory images at the package's edge: numpy arrays (HxW, HxWx1, HxWx3, HxWx4; uint8, uint16 or
float in [0, 1]) and PIL images to float RGB in [0, 1] and back, keeping the caller's dtype, grey-ness
and alpha channel. Files go through ``images.py``, which shares ``to_rgb01`` for decoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ArrayLayout:
    """What ``from_rgb01`` needs to give restored RGB the form of the original array."""

    shape: tuple[int, ...]
    dtype: np.dtype
    alpha: np.ndarray | None  # float HxWx1, passed through unchanged


def _scale(dtype: np.dtype) -> float:
    return 65535.0 if np.dtype(dtype) == np.uint16 else 255.0


def from_float(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float in [0, 1] -> uint8/uint16 with rounding and clipping."""
    return (np.clip(array, 0.0, 1.0) * _scale(dtype) + 0.5).astype(dtype)


def to_rgb01(array: np.ndarray) -> tuple[np.ndarray, ArrayLayout]:
    """Float32 HxWx3 RGB in [0, 1] (grey repeated over three channels, alpha set aside) and the layout
    to convert a result back with. Raises ``ValueError`` for shapes and dtypes that are not images."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {array.shape}")
    if array.dtype in (np.uint8, np.uint16):
        rgb = array.astype(np.float32) / _scale(array.dtype)
    elif np.issubdtype(array.dtype, np.floating):
        rgb = array.astype(np.float32)
    else:
        raise ValueError(f"unsupported image dtype {array.dtype}; use uint8, uint16 or float in [0, 1]")
    alpha = rgb[..., 3:] if rgb.ndim == 3 and rgb.shape[2] == 4 else None
    if rgb.ndim == 2 or rgb.shape[2] == 1:
        rgb = np.repeat(rgb.reshape(rgb.shape[0], rgb.shape[1], 1), 3, 2)
    return rgb[..., :3], ArrayLayout(array.shape, array.dtype, alpha)


def from_rgb01(rgb01: np.ndarray, layout: ArrayLayout) -> np.ndarray:
    """Restored float HxWx3 RGB in the original array's form (grey: the channel mean)."""
    out = rgb01
    if len(layout.shape) == 2 or layout.shape[2] == 1:
        out = out.mean(axis=2).reshape(layout.shape)
    elif layout.alpha is not None:
        out = np.concatenate([out, layout.alpha], axis=2)
    if np.issubdtype(layout.dtype, np.floating):
        return out.astype(layout.dtype)
    return from_float(out, layout.dtype)


def pil_to_array(image: Image.Image) -> np.ndarray:
    """A PIL image as an array ``to_rgb01`` accepts (palette, CMYK, ... converted to RGB/RGBA)."""
    mode = image.mode
    return np.asarray(image if mode in ("RGB", "RGBA", "L") else image.convert("RGBA" if "A" in mode else "RGB"))


def array_to_pil(array: np.ndarray) -> Image.Image:
    return Image.fromarray(array)
