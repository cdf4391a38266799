"""A region of an image as fractions of its width and height, ``[left, top, right, bottom]``: how a
benchmark suite trains on one part of a large real pair and scores on another (``bench`` sources and
test sets take ``crop:``), and how ``fit-preset --crop`` fits a renderer to that same part."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def region_error(region: Sequence[float]) -> Optional[str]:
    """Why ``region`` is not a region (None: it is one)."""
    if len(region) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in region):
        return f"crop {list(region)!r} is not four numbers [left, top, right, bottom]"
    left, top, right, bottom = region
    if not (0.0 <= left < right <= 1.0 and 0.0 <= top < bottom <= 1.0):
        return f"crop {list(region)!r} is not 0 <= left < right <= 1 and 0 <= top < bottom <= 1 (fractions of the image)"
    return None


def crop(image: np.ndarray, region: Sequence[float]) -> np.ndarray:
    """The part of an HxW(xC) image inside ``region`` (pixel bounds rounded to the nearest pixel)."""
    h, w = image.shape[:2]
    left, top, right, bottom = region
    return image[int(round(top * h)):int(round(bottom * h)), int(round(left * w)):int(round(right * w))]
