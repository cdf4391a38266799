"""Rain streaks, rendered the way the Rain100/Rain800 family of synthetic sets was made.

Those sets (Yang et al., CVPR 2017; Zhang et al., 2019) draw sparse random drops, blur them into
streaks with a linear motion kernel (angle, length) and composite the grey streak layer R onto the
photo B. Two composites: "screen" (the default), which brightens but never reaches white,
I = 1 - (1 - B)(1 - R), and "add", I = min(B + R, 1), Yang et al.'s model O = B + S (Sec. 3), which
clips streaks on bright backgrounds to white. The real JORDER (Rain100H-like) and Rain12 pairs are
exactly additive: I - B is the same in all three channels on every unclipped pixel and never negative
(``rain_fit.rain_layer_of`` tells the two apart). Heavy rain also adds a veil of light scattered by
accumulated drops (Yang et al.'s "rain accumulation"): I <- (1 - v) I + v A.

``sample_rain_params`` defaults to moderate-to-heavy rain (synthetic input PSNR about 22 dB on
CBSD68/Kodak24, Y channel); ``LIGHT_RAIN`` gives 26.4 dB (Y) on all 92 of those photos, 3.7 dB harder
than Rain12's 30.1 dB (``benchmarks/realism.py``, RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class RainParams:
    """One rain layer: drop density (fraction of pixels seeding a drop), streak length (px),
    angle (degrees from vertical), drop radius (Gaussian sigma, px), peak brightness, and the veil
    (rain-accumulation) strength applied once per image."""

    density: float = 0.004
    length: int = 20
    angle: float = 0.0
    width: float = 0.6
    intensity: float = 0.7
    veil: float = 0.0


# Ranges for ``sample_rain_params`` for Rain12-like light rain (measured: 26.4 dB mean input PSNR,
# Y channel, on the 92 CBSD68 + Kodak24 photos vs 30.1 dB for Rain12's inputs: somewhat heavier).
LIGHT_RAIN = {"intensity": (0.25, 0.6), "density": (0.001, 0.005), "veil": (0.0, 0.02)}


def sample_rain_params(
    rng: np.random.Generator,
    density: tuple[float, float] = (0.002, 0.008),
    length: tuple[int, int] = (10, 35),
    angle: tuple[float, float] = (-25.0, 25.0),
    width: tuple[float, float] = (0.4, 1.0),
    intensity: tuple[float, float] = (0.45, 0.85),
    veil: tuple[float, float] = (0.0, 0.08),
) -> RainParams:
    """Draw parameters uniformly from the given ranges."""
    return RainParams(
        density=float(rng.uniform(*density)),
        length=int(rng.integers(length[0], length[1] + 1)),
        angle=float(rng.uniform(*angle)),
        width=float(rng.uniform(*width)),
        intensity=float(rng.uniform(*intensity)),
        veil=float(rng.uniform(*veil)),
    )


COMPOSITES = ("screen", "add")


def streak_ranges(ranges: dict | None) -> dict:
    """``ranges`` without the layer count and the composite: the ranges ``sample_rain_params`` takes."""
    return {key: value for key, value in (ranges or {}).items() if key not in ("layers", "composite")}


def streak_kernel(length: int, angle: float, supersample: int = 4) -> np.ndarray:
    """Anti-aliased line kernel of ``length`` px at ``angle`` degrees from vertical; sums to 1."""
    size = length + 2 if length % 2 else length + 3  # odd, with a margin for anti-aliasing
    big = size * supersample
    canvas = np.zeros((big, big), np.float32)
    theta = np.deg2rad(angle)
    half = (length * supersample) / 2.0
    cx = cy = big / 2.0
    dx, dy = half * np.sin(theta), half * np.cos(theta)
    p0 = (int(round(cx - dx)), int(round(cy - dy)))
    p1 = (int(round(cx + dx)), int(round(cy + dy)))
    cv2.line(canvas, p0, p1, 1.0, thickness=supersample, lineType=cv2.LINE_AA)
    kernel = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    kernel = np.clip(kernel, 0.0, None)
    return kernel / kernel.sum()


def rain_layer(height: int, width: int, params: RainParams, rng: np.random.Generator) -> np.ndarray:
    """A float32 HxW streak layer in [0, 1]."""
    seeds = (rng.random((height, width)) < params.density).astype(np.float32)
    seeds *= rng.uniform(0.6, 1.0, size=(height, width)).astype(np.float32)
    if params.width > 0:
        seeds = cv2.GaussianBlur(seeds, (0, 0), params.width)
    streaks = cv2.filter2D(seeds, -1, streak_kernel(params.length, params.angle), borderType=cv2.BORDER_REFLECT)
    active = streaks[streaks > 1e-6]
    if active.size == 0:
        return np.zeros((height, width), np.float32)
    scale = np.quantile(active, 0.995)  # brightest streak cores reach the chosen intensity
    return np.clip(streaks / scale, 0.0, 1.0) * params.intensity


def add_rain(
    clean: np.ndarray, rng: np.random.Generator, layers: int | None = None, params: list[RainParams] | None = None,
    ranges: dict | None = None,
) -> np.ndarray:
    """Render 1-3 streak layers (similar direction, different scale) over a float HxWx3 image in [0, 1];
    ``ranges`` overrides ``sample_rain_params``' ranges (e.g. ``LIGHT_RAIN``) and may set how many
    layers, ``layers: (fewest, most)`` (fitted presets render one: their estimates cover all of a pair's
    rain), and the ``composite``, "screen" (default) or "add"."""
    h, w = clean.shape[:2]
    if params is None:
        base = sample_rain_params(rng, **streak_ranges(ranges))
        fewest, most = (ranges or {}).get("layers", (1, 3))
        count = layers if layers is not None else int(rng.integers(fewest, most + 1))
        params = [base]
        for _ in range(count - 1):
            params.append(
                RainParams(
                    density=base.density * rng.uniform(0.3, 0.8),
                    length=max(4, int(base.length * rng.uniform(0.5, 1.3))),
                    angle=base.angle + rng.uniform(-6, 6),
                    width=base.width * rng.uniform(0.7, 1.3),
                    intensity=base.intensity * rng.uniform(0.6, 1.0),
                    veil=base.veil,
                )
            )
    composite = (ranges or {}).get("composite", "screen")
    if composite not in COMPOSITES:
        raise ValueError(f"unknown rain composite {composite!r} (known: {', '.join(COMPOSITES)})")
    rain = np.zeros((h, w), np.float32)
    for p in params:
        layer = rain_layer(h, w, p, rng)
        rain = rain + layer if composite == "add" else 1.0 - (1.0 - rain) * (1.0 - layer)  # layers combine alike
    if composite == "add":
        rainy = clean.astype(np.float32) + rain[..., None]
    else:
        rainy = 1.0 - (1.0 - clean.astype(np.float32)) * (1.0 - rain[..., None])
    veil = params[0].veil
    if veil > 0:
        airlight = rng.uniform(0.75, 0.95)
        rainy = (1.0 - veil) * rainy + veil * airlight
    return np.clip(rainy, 0.0, 1.0).astype(np.float32)
