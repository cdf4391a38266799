"""Synthetic time-lapse: N frames of one static scene, each with its own rain and a small drift in
illumination, the training data MGID (Cho et al., TIP 2022) learns from.

Rain is drawn independently per frame (a new rain layer each time, as consecutive time-lapse shots
seconds apart share nothing of the rain), with one rain regime (angle, intensity range) per sequence,
as one shower has one wind. Illumination drifts smoothly over the sequence: a global gain random walk
within +-``drift`` and a slight per-channel (white balance) change, as daylight does between shots.
"""

from __future__ import annotations

import numpy as np

from .rain import add_rain, sample_rain_params, streak_ranges


def timelapse_sequence(clean: np.ndarray, rng: np.random.Generator, frames: int = 12, drift: float = 0.04,
                       ranges: dict | None = None) -> tuple[list[np.ndarray], list[float]]:
    """``frames`` rainy float HxWx3 frames of ``clean`` and each frame's global illumination gain."""
    regime = sample_rain_params(rng, **streak_ranges(ranges))
    angle = (regime.angle - 5.0, regime.angle + 5.0)
    frame_ranges = {**(ranges or {}), "angle": angle}
    gain, tint = 1.0, np.ones(3, np.float32)
    out, gains = [], []
    for _ in range(frames):
        gain = float(np.clip(gain + rng.normal(0.0, drift / 3), 1.0 - drift, 1.0 + drift))
        tint = np.clip(tint + rng.normal(0.0, drift / 10, 3).astype(np.float32), 1 - drift / 2, 1 + drift / 2)
        lit = np.clip(clean.astype(np.float32) * gain * tint, 0.0, 1.0)
        out.append(add_rain(lit, rng, ranges=frame_ranges))
        gains.append(gain)
    return out, gains
