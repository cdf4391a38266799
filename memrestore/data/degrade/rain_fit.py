"""Rain-streak parameters measured on real rain pairs, to fit the renderer's ranges to real rain.

A pair's rain layer is undone from the screen composite that ``rain.add_rain`` renders,
I = 1 - (1 - B)(1 - R), so R = 1 - (1 - I) / (1 - B) where the background B is not near white,
averaged over colour. From R:

* veil: the median of R (streaks cover few pixels; a veil of scattered light lifts all of them);
* angle: the dominant orientation of the structure tensor of the streak layer (gradients run across
  streaks), reported with its coherence (1: one direction, 0: none, e.g. drops rather than streaks);
* length, width, density and intensity: statistics of the streak layer (autocorrelation half-widths
  along and across the streaks, the fraction of pixels a streak covers, its 99.5th percentile) are
  matched by rendering layers with known parameters through ``rain.rain_layer`` and measuring the
  same statistics (the method of simulated moments), so each estimate is in the renderer's own units
  and carries no bias of an analytic formula;
* chroma: the colour spread of the rain layer (the renderer's streaks are grey), reported only.

``fit_ranges`` turns per-pair estimates into ``sample_rain_params`` ranges, widened beyond what the
real set shows (domain randomisation: a generator fitted to one set alone would over-fit it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import cv2
import numpy as np
from scipy import ndimage

from .fitting import Fitter, Rounded, solve_increasing, widened_range
from .rain import RainParams, rain_layer

SIMULATED_SIZE = 320  # side of the layers rendered to match statistics; long enough for 60-px streaks
LENGTHS = (4, 80)  # search bounds of the matched parameters, in the renderer's units
WIDTHS = (0.2, 3.0)
DENSITIES = (1e-4, 0.05)
# Below this structure-tensor coherence a rain layer has no dominant direction (rendered streaks read
# 0.66-0.97 on Rain12 and JORDER; GT-RAIN's webcam rain 0.16-0.44): not streaks, so not fitted.
MIN_COHERENCE = 0.5


@dataclass(frozen=True)
class RainEstimate(Rounded):
    """Renderer parameters (``rain.RainParams``' units) that reproduce one real rain layer's statistics,
    with the direction's coherence and the layer's chroma as diagnostics."""

    density: float
    length: float
    angle: float
    width: float
    intensity: float
    veil: float
    coherence: float
    chroma: float

    def params(self) -> RainParams:
        return RainParams(density=self.density, length=max(2, int(round(self.length))), angle=self.angle,
                          width=self.width, intensity=self.intensity, veil=self.veil)


def rain_layer_of(rainy: np.ndarray, clean: np.ndarray, white: float = 0.96) -> tuple[np.ndarray, float]:
    """Grey HxW rain layer of a float HxWx3 pair (screen composite undone; pixels whose background is
    brighter than ``white`` in any channel carry no information and take the layer's median), and
    its chroma: the mean over rain pixels of the channels' spread relative to their mean."""
    denominator = 1.0 - clean.astype(np.float32)
    informative = (denominator > 1.0 - white).all(axis=2)
    per_channel = np.clip(1.0 - (1.0 - rainy.astype(np.float32)) / np.maximum(denominator, 1.0 - white), 0.0, 1.0)
    layer = per_channel.mean(axis=2)
    if not informative.any():
        return np.zeros(layer.shape, np.float32), 0.0
    layer[~informative] = np.median(layer[informative])
    strong = informative & (layer > np.quantile(layer[informative], 0.95))
    chroma = float(np.mean(per_channel[strong].std(axis=1) / np.maximum(layer[strong], 1e-3))) if strong.any() else 0.0
    return layer.astype(np.float32), chroma


def direction(streaks: np.ndarray) -> tuple[float, float]:
    """Streak angle in degrees from vertical (the renderer's convention, in (-90, 90]) and the
    coherence of the structure tensor."""
    gx = cv2.Sobel(streaks, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(streaks, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    gradient = 0.5 * np.degrees(np.arctan2(2.0 * jxy, jxx - jyy))  # gradients' orientation from the x axis
    angle = -gradient  # streaks run across their gradients: (sin a, cos a) in (x, y) is perpendicular
    angle = (angle + 90.0) % 180.0 - 90.0
    coherence = np.hypot(jxx - jyy, 2.0 * jxy) / max(jxx + jyy, 1e-12)
    return float(angle if angle > -90.0 else 90.0), float(coherence)


def half_widths(streaks: np.ndarray, angle: float, reach: int = 100) -> tuple[float, float]:
    """Distances (px) at which the layer's autocorrelation falls to half, along and across ``angle``."""
    centred = streaks - streaks.mean()
    spectrum = np.fft.rfft2(centred)
    acf = np.fft.fftshift(np.fft.irfft2(spectrum * np.conj(spectrum), s=centred.shape))
    acf /= max(float(acf.max()), 1e-12)
    cy, cx = (np.array(acf.shape) // 2).astype(float)
    reach = min(reach, int(min(cy, cx)) - 1)
    distances = np.arange(reach + 1, dtype=float)
    theta = np.radians(angle)
    widths = []
    for ux, uy in ((np.sin(theta), np.cos(theta)), (np.cos(theta), -np.sin(theta))):
        profile = ndimage.map_coordinates(acf, [cy + distances * uy, cx + distances * ux], order=1)
        below = np.nonzero(profile < 0.5)[0]
        if below.size == 0:
            widths.append(float(reach))
            continue
        k = int(below[0])
        widths.append(0.0 if k == 0 else float(k - 1 + (profile[k - 1] - 0.5) / max(profile[k - 1] - profile[k], 1e-12)))
    return widths[0], widths[1]


def streak_statistics(streaks: np.ndarray, angle: float) -> dict[str, float]:
    """The statistics matched between real and rendered layers."""
    along, across = half_widths(streaks, angle)
    peak = float(np.quantile(streaks, 0.995))
    coverage = float(np.mean(streaks > 0.25 * peak)) if peak > 0 else 0.0
    return {"along": along, "across": across, "coverage": coverage, "peak": peak}


def _simulated(params: RainParams, seeds: int = 2) -> dict[str, float]:
    stats = [streak_statistics(rain_layer(SIMULATED_SIZE, SIMULATED_SIZE, params, np.random.default_rng(seed)),
                               params.angle) for seed in range(seeds)]
    return {key: float(np.mean([s[key] for s in stats])) for key in stats[0]}


def estimate_rain(rainy: np.ndarray, clean: np.ndarray, rounds: int = 2) -> RainEstimate:
    """Renderer parameters whose rain layer has the statistics of this real pair's."""
    layer, chroma = rain_layer_of(rainy, clean)
    veil = float(np.median(layer))
    streaks = np.clip((layer - veil) / max(1.0 - veil, 1e-3), 0.0, 1.0)
    angle, coherence = direction(streaks)
    target = streak_statistics(streaks, angle)
    if target["peak"] < 1e-3:  # no rain on this pair: nothing to match
        return RainEstimate(density=0.0, length=0.0, angle=angle, width=0.0, intensity=0.0, veil=veil,
                            coherence=coherence, chroma=chroma)
    params = RainParams(density=0.004, length=20, angle=angle, width=0.6, intensity=1.0)
    for _ in range(rounds):  # each statistic mostly follows one parameter: solve them in turn
        length = solve_increasing(target["along"], *LENGTHS,
                                  lambda v: _simulated(_with(params, length=max(2, int(round(v)))))["along"])
        params = _with(params, length=max(2, int(round(length))))
        width = solve_increasing(target["across"], *WIDTHS, lambda v: _simulated(_with(params, width=v))["across"])
        params = _with(params, width=width)
        density = solve_increasing(target["coverage"], *DENSITIES,
                                   lambda v: _simulated(_with(params, density=v))["coverage"], log=True)
        params = _with(params, density=density)
    intensity = float(np.clip(target["peak"] / max(_simulated(params)["peak"], 1e-6), 0.0, 1.0))
    return RainEstimate(density=params.density, length=float(params.length), angle=angle, width=params.width,
                        intensity=intensity, veil=veil, coherence=coherence, chroma=chroma)


def _with(params: RainParams, **changes) -> RainParams:
    return RainParams(**{**asdict(params), **changes})


# Domain randomisation: the least widening of each range on each side (``fitting.widened_range``).
MARGINS = {"density": ("relative", 0.3), "length": ("relative", 0.3), "angle": ("absolute", 5.0),
           "width": ("relative", 0.3), "intensity": ("relative", 0.15), "veil": ("absolute", 0.01)}
BOUNDS = {"density": DENSITIES, "length": LENGTHS, "angle": (-60.0, 60.0), "width": WIDTHS,
          "intensity": (0.05, 1.0), "veil": (0.0, 0.3)}


def fit_ranges(estimates: list[RainEstimate], widen: float = 0.25) -> dict[str, list[float]]:
    """``sample_rain_params`` ranges covering ``estimates`` (``fitting.widened_range`` with ``MARGINS``),
    plus ``layers: [1, 1]``: each estimate describes a pair's whole rain, so one layer renders what was measured."""
    if not estimates:
        raise ValueError("no rain estimates to fit")
    ranges: dict[str, list[float]] = {}
    for key in MARGINS:
        low, high = widened_range([getattr(e, key) for e in estimates], widen, MARGINS[key], BOUNDS[key])
        ranges[key] = [int(np.floor(low)), int(np.ceil(high))] if key == "length" else [round(float(low), 5),
                                                                                         round(float(high), 5)]
    ranges["layers"] = [1, 1]
    return ranges


def _left_out(estimate: RainEstimate) -> Optional[str]:
    if estimate.coherence < MIN_COHERENCE:
        return f"no dominant streak direction (coherence {estimate.coherence:.2f} < {MIN_COHERENCE})"
    return None


def _preview(rainy: np.ndarray, clean: np.ndarray, estimate: RainEstimate) -> tuple[np.ndarray, np.ndarray]:
    layer, _ = rain_layer_of(rainy, clean)
    rendered = rain_layer(*layer.shape, estimate.params(), np.random.default_rng(0)) + estimate.veil
    return np.repeat(layer[..., None], 3, axis=2), np.repeat(rendered[..., None], 3, axis=2).clip(0, 1)


FITTER = Fitter(what="rain streaks", range_keys=frozenset({*MARGINS, "layers"}), estimate=estimate_rain,
                left_out=_left_out, fit_ranges=fit_ranges, preview=_preview, preview_rows=("real rain", "rendered"))
