"""Rain-streak parameters measured on real rain pairs, to fit the renderer's ranges to real rain.

A pair's rain layer is undone from whichever of ``rain.add_rain``'s composites explains the pair
better, the one whose undone layer is the more nearly grey (the renderer's streaks are grey):
additive, I = min(B + R, 1), so R = max over channels of I - B (exact wherever one channel is
unclipped), or screen, I = 1 - (1 - B)(1 - R), so R = 1 - (1 - I) / (1 - B) where the background B is
not near white, averaged over colour. From R:

* veil: the median of R for screen rain (streaks cover few pixels; a veil of scattered light lifts all
  of them); its 5th percentile for additive rain, which is dense (JORDER's streaks cover most pixels);
* angle: the dominant orientation of the structure tensor of the streak layer (gradients run across
  streaks), reported with its coherence (1: one direction, 0: none, e.g. drops rather than streaks);
* length, width, density and intensity: statistics of the streak layer (autocorrelation half-widths
  along and across the streaks, the fraction of pixels a streak covers, its 99.5th percentile) are
  matched by rendering rain with known parameters (``rain.add_rain``) onto the pair's own background,
  undoing it the same way and measuring the same statistics (the method of simulated moments), so each
  estimate is in the renderer's own units and carries neither the bias of an analytic formula nor
  that of clipping on bright backgrounds;
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
from .rain import COMPOSITES, RainParams, add_rain

SIMULATED_SIZE = 480  # the largest centre crop of a pair's background rain is rendered on to match statistics
LENGTHS = (4, 80)  # search bounds of the matched parameters, in the renderer's units
WIDTHS = (0.2, 3.0)
DENSITIES = (1e-4, 0.05)
INTENSITIES = (0.02, 1.0)
# Below this structure-tensor coherence a rain layer has no dominant direction (Rain12's and JORDER's
# rain reads 0.77-0.97; GT-RAIN's webcam rain 0.09-0.50): not streaks, so not fitted.
MIN_COHERENCE = 0.5


@dataclass(frozen=True)
class RainEstimate(Rounded):
    """Renderer parameters (``rain.RainParams``' units) that reproduce one real rain layer's statistics,
    with the direction's coherence, the layer's chroma and whether it was composited additively
    (1.0) or in screen mode (0.0) as diagnostics."""

    density: float
    length: float
    angle: float
    width: float
    intensity: float
    veil: float
    coherence: float
    chroma: float
    additive: float = 0.0

    def params(self) -> RainParams:
        return RainParams(density=self.density, length=max(2, int(round(self.length))), angle=self.angle,
                          width=self.width, intensity=self.intensity, veil=self.veil)


@dataclass(frozen=True)
class RainLayer:
    """A pair's grey HxW rain layer, undone from the composite that explains the pair, and its chroma:
    the mean over the strongest 5 % of rain pixels of the channels' spread relative to their mean."""

    layer: np.ndarray
    chroma: float
    additive: bool


def _chroma(per_channel: np.ndarray, layer: np.ndarray, informative: np.ndarray) -> float:
    strong = informative & (layer > np.quantile(layer[informative], 0.95))
    return float(np.mean(per_channel[strong].std(axis=1) / np.maximum(layer[strong], 1e-3))) if strong.any() else 0.0


def rain_layer_of(rainy: np.ndarray, clean: np.ndarray, white: float = 0.96,
                  additive: Optional[bool] = None) -> RainLayer:
    """The rain layer of a float HxWx3 pair. Pixels whose background is brighter than ``white`` in any
    channel carry little information and take the layer's median. Additive R is exact wherever one
    channel is unclipped; pixels clipped in every channel keep their lower bound. ``additive`` None:
    the composite is told from the pair."""
    rainy, clean = rainy.astype(np.float32), clean.astype(np.float32)
    denominator = 1.0 - clean
    informative = (denominator > 1.0 - white).all(axis=2)
    screen = np.clip(1.0 - (1.0 - rainy) / np.maximum(denominator, 1.0 - white), 0.0, 1.0)
    added = rainy - clean
    unclipped = (rainy < white).all(axis=2)
    if not informative.any() or not unclipped.any():
        return RainLayer(np.zeros(rainy.shape[:2], np.float32), 0.0, False)
    if additive is None:
        additive = float(added[unclipped].std(axis=1).mean()) < float(screen[informative].std(axis=1).mean())
    per_channel, layer = (np.clip(added, 0.0, 1.0), added.max(axis=2).clip(0.0, 1.0)) if additive else \
        (screen, screen.mean(axis=2))
    layer[~informative] = np.median(layer[informative])
    return RainLayer(layer.astype(np.float32), _chroma(per_channel, layer, unclipped if additive else informative),
                     additive)


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


def _as_observed(params: RainParams, background: np.ndarray, additive: bool, seed: int) -> np.ndarray:
    """The rain layer of ``params`` as a pair's own rain is observed: composited onto its background,
    stored in 8 bits and undone (streaks clipped on bright backgrounds read dimmer)."""
    rainy = add_rain(background, np.random.default_rng(seed), params=[params],
                     ranges={"composite": "add" if additive else "screen"})
    return rain_layer_of(np.round(rainy * 255.0) / 255.0, background, additive=additive).layer


def _observed(params: RainParams, background: np.ndarray, additive: bool, seeds: int = 2) -> dict[str, float]:
    stats = [streak_statistics(_as_observed(params, background, additive, seed), params.angle) for seed in range(seeds)]
    return {key: float(np.mean([s[key] for s in stats])) for key in stats[0]}


def _centre(image: np.ndarray, side: int = SIMULATED_SIZE) -> np.ndarray:
    h, w = image.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return image[y:y + side, x:x + side]


def estimate_rain(rainy: np.ndarray, clean: np.ndarray, rounds: int = 2) -> RainEstimate:
    """Renderer parameters whose rain, observed on this pair's background, has the statistics of the
    pair's own rain layer."""
    undone = rain_layer_of(rainy, clean)
    layer, chroma, additive = undone.layer, undone.chroma, float(undone.additive)
    veil = float(np.quantile(layer, 0.05 if undone.additive else 0.5))
    streaks = np.clip((layer - veil) / max(1.0 - veil, 1e-3), 0.0, 1.0)
    angle, coherence = direction(streaks)
    target = streak_statistics(streaks, angle)
    if target["peak"] < 1e-3:  # no rain on this pair: nothing to match
        return RainEstimate(density=0.0, length=0.0, angle=angle, width=0.0, intensity=0.0, veil=veil,
                            coherence=coherence, chroma=chroma, additive=additive)
    background = _centre(clean.astype(np.float32))

    def observed(params: RainParams, key: str) -> float:
        return _observed(params, background, undone.additive)[key]

    params = RainParams(density=0.004, length=20, angle=angle, width=0.6, intensity=max(target["peak"], 0.05))
    for _ in range(rounds):  # each statistic mostly follows one parameter: solve them in turn
        length = solve_increasing(target["along"], *LENGTHS,
                                  lambda v: observed(_with(params, length=max(2, int(round(v)))), "along"))
        params = _with(params, length=max(2, int(round(length))))
        width = solve_increasing(target["across"], *WIDTHS, lambda v: observed(_with(params, width=v), "across"))
        params = _with(params, width=width)
        density = solve_increasing(target["coverage"], *DENSITIES,
                                   lambda v: observed(_with(params, density=v), "coverage"), log=True)
        params = _with(params, density=density)
        intensity = solve_increasing(target["peak"], *INTENSITIES, lambda v: observed(_with(params, intensity=v), "peak"))
        params = _with(params, intensity=intensity)
    return RainEstimate(density=params.density, length=float(params.length), angle=angle, width=params.width,
                        intensity=params.intensity, veil=veil, coherence=coherence, chroma=chroma, additive=additive)


def _with(params: RainParams, **changes) -> RainParams:
    return RainParams(**{**asdict(params), **changes})


# Domain randomisation: the least widening of each range on each side (``fitting.widened_range``).
MARGINS = {"density": ("relative", 0.3), "length": ("relative", 0.3), "angle": ("absolute", 5.0),
           "width": ("relative", 0.3), "intensity": ("relative", 0.15), "veil": ("absolute", 0.01)}
BOUNDS = {"density": DENSITIES, "length": LENGTHS, "angle": (-60.0, 60.0), "width": WIDTHS,
          "intensity": (0.05, 1.0), "veil": (0.0, 0.3)}


def fit_ranges(estimates: list[RainEstimate], widen: float = 0.25) -> dict:
    """``sample_rain_params`` ranges covering ``estimates`` (``fitting.widened_range`` with ``MARGINS``),
    plus ``layers: [1, 1]`` (each estimate describes a pair's whole rain, so one layer renders what was
    measured) and the ``composite`` most pairs were explained by."""
    if not estimates:
        raise ValueError("no rain estimates to fit")
    ranges: dict = {}
    for key in MARGINS:
        low, high = widened_range([getattr(e, key) for e in estimates], widen, MARGINS[key], BOUNDS[key])
        ranges[key] = [int(np.floor(low)), int(np.ceil(high))] if key == "length" else [round(float(low), 5),
                                                                                         round(float(high), 5)]
    ranges["layers"] = [1, 1]
    ranges["composite"] = "add" if sum(e.additive for e in estimates) * 2 > len(estimates) else "screen"
    return ranges


def _left_out(estimate: RainEstimate) -> Optional[str]:
    if estimate.coherence < MIN_COHERENCE:
        return f"no dominant streak direction (coherence {estimate.coherence:.2f} < {MIN_COHERENCE})"
    return None


def _preview(rainy: np.ndarray, clean: np.ndarray, estimate: RainEstimate) -> tuple[np.ndarray, np.ndarray]:
    """The pair's rain layer beside rain rendered from its estimate on the same background, both undone alike."""
    layer = rain_layer_of(rainy, clean).layer
    rendered = _as_observed(estimate.params(), clean.astype(np.float32), bool(estimate.additive), 0)
    return np.repeat(layer[..., None], 3, axis=2), np.repeat(rendered[..., None], 3, axis=2)


FITTER = Fitter(what="rain streaks", range_keys=frozenset({*MARGINS, "layers", "composite"}), estimate=estimate_rain,
                left_out=_left_out, fit_ranges=fit_ranges, preview=_preview, preview_rows=("real rain", "rendered"),
                choices={"composite": COMPOSITES})
