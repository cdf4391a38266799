"""No-reference quality measures, for restorations of real photos that have no clean reference.

``brisque``: BRISQUE (Mittal, Moorthy, Bovik, "No-Reference Image Quality Assessment in the Spatial
Domain", IEEE TIP 2012): natural-scene statistics of locally normalised luminance at two scales,
mapped to a quality score by a support-vector regressor trained on human opinion scores of the LIVE
database. Computed by the maintained ``brisque`` package (``pip install memrestore[noref]``), whose
pre-trained regressor ships inside it, so nothing is downloaded. Lower is better; scores are
roughly 0-100 (and may fall outside). It rates naturalness, not fidelity: a restoration can score
better than the clean photo, so it ranks restorations of the same photos and never replaces PSNR
where a reference exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import MemrestoreError


@dataclass(frozen=True)
class NoReferenceMeasure:
    name: str
    title: str
    lower_is_better: bool
    score: Callable[[np.ndarray], float]  # HxWx3 float RGB in [0, 1] -> score


@lru_cache(maxsize=1)
def _brisque_model():
    """The package's scorer. brisque 0.2 hands some features to ``float()`` as one-element arrays,
    which NumPy 2 refuses, so they are made scalars before its own scaling; nothing else changes."""
    try:
        from brisque import BRISQUE
    except ImportError:
        raise MemrestoreError("BRISQUE needs the brisque package: pip install 'memrestore[noref]'") from None

    class ScalarFeatures(BRISQUE):
        def scale_features(self, features):
            return super().scale_features([float(np.asarray(f, dtype=np.float64).reshape(-1)[0]) for f in features])

    return ScalarFeatures(url=False)


def brisque(image: np.ndarray) -> float:
    """BRISQUE of an HxWx3 float RGB image in [0, 1] (8-bit quantised first, as the measure was fitted)."""
    pixels = np.clip(np.round(np.asarray(image, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
    return float(_brisque_model().score(pixels))


NO_REFERENCE: dict[str, NoReferenceMeasure] = {
    "brisque": NoReferenceMeasure("brisque", "BRISQUE (no reference, lower is better)", True, brisque),
}


def no_reference_measure(name: str) -> NoReferenceMeasure:
    if name not in NO_REFERENCE:
        raise MemrestoreError(f"unknown no-reference measure {name!r} (known: {', '.join(NO_REFERENCE)})")
    return NO_REFERENCE[name]


def score_image_file(path: str | Path, measure: NoReferenceMeasure) -> float:
    """The measure on one image file; a file it cannot score is a one-line error naming it."""
    from ..io import read_image, to_float_rgb

    image = to_float_rgb(read_image(path))
    if min(image.shape[:2]) < 16:
        raise MemrestoreError(f"{path}: {image.shape[1]}x{image.shape[0]} is too small for {measure.name} (needs 16x16)")
    return measure.score(image)
