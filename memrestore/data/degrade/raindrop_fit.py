"""Raindrop parameters measured on real raindrop/clean pairs, to fit the raindrop renderer's ranges.

Real raindrop pairs (Qian et al., CVPR 2018) are two shots through a wet and a clean pane, so their
difference is dominated by small shifts of the scene at every edge, not by the drops. What survives a
shift is what a drop does to detail: the camera focuses on the scene, so a drop blurs what lies behind
it (``raindrop`` renders the same). The drop map of a pair is therefore the local loss of gradient
energy of the degraded image against the clean one, on textured pixels (a flat sky shows no drop).
From it two statistics, matched by rendering drops with known parameters on the same clean photo and
measuring the same map (simulated moments, as ``rain_fit`` does for streaks):

* coverage: the fraction of textured pixels that lost more than ``LOSS`` of their detail -> ``count``;
* size: the autocorrelation half-width of the drop map (``rain_fit.half_widths``), relative to the
  shorter side -> ``radius_max`` (drops are drawn with radii from a quarter of it up to it).

Detail is measured over ``DETAIL_SIGMA`` px, so the statistics mean something on photos of a few
hundred pixels and more (Qian et al.'s are 720x480). Refraction strength and defocus are not
identifiable from two shifted shots and keep their hand-set ranges; the rendered drops use their
middle values while matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from .colour import grey
from .fitting import Fitter, Rounded, solve_increasing, widened_range
from .rain_fit import half_widths
from .raindrop import RaindropParams, add_raindrops

DETAIL_SIGMA = 6.0  # px: the neighbourhood detail is measured over
LOSS = 0.6  # a pixel is under a drop when it lost more than this fraction of its detail
COUNTS = (5.0, 600.0)  # search bounds of the matched parameters, in the renderer's units
RADII = (0.01, 0.25)
MATCHING = {"refraction": 1.75, "inner_blur": 2.5, "defocus": 1.25}  # middles of the hand-set ranges


@dataclass(frozen=True)
class RaindropEstimate(Rounded):
    """Renderer parameters (``raindrop.RaindropParams``' units) reproducing one pair's drop map, and
    the map's statistics."""

    count: float
    radius_max: float
    coverage: float
    size: float


def _detail(image: np.ndarray) -> np.ndarray:
    luma = grey(image)
    gx, gy = cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1)
    return cv2.GaussianBlur(gx * gx + gy * gy, (0, 0), DETAIL_SIGMA)


def drop_map(degraded: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HxW fraction of local detail lost (0: none, 1: all), zero off the textured pixels, and the
    textured pixels (the clean image's detail above its 20th percentile)."""
    before, after = _detail(clean), _detail(degraded)
    textured = before > np.quantile(before, 0.2)
    return np.clip(1.0 - after / np.maximum(before, 1e-8), 0.0, 1.0) * textured, textured


def drop_statistics(degraded: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    lost, textured = drop_map(degraded, clean)
    coverage = float(((lost > LOSS) & textured).sum() / max(int(textured.sum()), 1))
    size = float(np.mean(half_widths(lost, 0.0))) / min(lost.shape)
    return {"coverage": coverage, "size": size}


def _drops(count: float, radius_max: float) -> RaindropParams:
    return RaindropParams(count=max(1, int(round(count))), radius=(radius_max / 4, radius_max), **MATCHING)


def _simulated(clean: np.ndarray, count: float, radius_max: float, seeds: int = 4) -> dict[str, float]:
    stats = [drop_statistics(add_raindrops(clean, np.random.default_rng(seed), params=_drops(count, radius_max))[0], clean)
             for seed in range(seeds)]
    return {key: float(np.mean([s[key] for s in stats])) for key in stats[0]}


def estimate_raindrops(degraded: np.ndarray, clean: np.ndarray, rounds: int = 2) -> RaindropEstimate:
    """Drop count and largest radius whose rendered drops lose the detail this pair's drops lose."""
    target = drop_statistics(degraded, clean)
    if target["coverage"] < 1e-3:
        return RaindropEstimate(count=0.0, radius_max=0.0, **target)
    count, radius = 150.0, 0.05
    for _ in range(rounds):  # size mostly follows the radius, coverage the count: solve them in turn
        radius = solve_increasing(target["size"], *RADII, lambda r: _simulated(clean, count, r)["size"], log=True)
        count = solve_increasing(target["coverage"], *COUNTS, lambda c: _simulated(clean, c, radius)["coverage"], log=True)
    return RaindropEstimate(count=count, radius_max=radius, **target)


# The least widening of each range on each side (``fitting.widened_range``), and the renderer's limits.
MARGINS = {"count": ("relative", 0.3), "radius_max": ("relative", 0.2)}
BOUNDS = {"count": COUNTS, "radius_max": RADII}


def fit_ranges(estimates: list[RaindropEstimate], widen: float = 0.25) -> dict:
    """``sample_raindrop_params`` ranges for ``count`` and ``radius_max`` covering ``estimates``."""
    if not estimates:
        raise ValueError("no raindrop estimates to fit")
    low, high = widened_range([e.count for e in estimates], widen, MARGINS["count"], BOUNDS["count"])
    small, large = widened_range([e.radius_max for e in estimates], widen, MARGINS["radius_max"], BOUNDS["radius_max"])
    return {"count": [int(np.floor(low)), int(np.ceil(high))], "radius_max": [round(float(small), 5), round(float(large), 5)]}


def _left_out(estimate: RaindropEstimate) -> Optional[str]:
    if estimate.coverage < 1e-3:
        return f"no drops (no textured pixel lost more than {LOSS:.0%} of its detail)"
    return None


def _preview(degraded: np.ndarray, clean: np.ndarray, estimate: RaindropEstimate) -> tuple[np.ndarray, np.ndarray]:
    rendered = add_raindrops(clean, np.random.default_rng(0), params=_drops(estimate.count, estimate.radius_max))[0]
    return tuple(np.repeat(drop_map(d, clean)[0][..., None], 3, axis=2) for d in (degraded, rendered))


FITTER = Fitter(what="raindrops", range_keys=frozenset(MARGINS), estimate=estimate_raindrops, left_out=_left_out,
                fit_ranges=fit_ranges, preview=_preview, preview_rows=("real drop map", "rendered"))
