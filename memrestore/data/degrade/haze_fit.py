"""Haze parameters measured on real hazy/clean pairs, to fit the haze renderer's ranges to real haze.

Under the atmospheric scattering model that ``haze.add_haze`` renders (and RESIDE rendered SOTS
with: Li et al., TIP 2019, Sec. III), I = J t + A (1 - t) with one grey airlight A per image and one
transmission t per pixel, so I - A = t (J - A): the hazy colour, the clean colour and A lie on one
line in RGB. Per pair:

* airlight: the A in [0.3, 1] whose per-pixel least-squares t best explains all pixels (a grid, then
  a bounded scalar search), with the fit's RMS residual as a diagnostic (0 for the model's own haze;
  large when the pair is not scattering haze, e.g. misaligned or re-exposed);
* transmission t = <I - A, J - A> / |J - A|^2 where the clean colour is far enough from A to tell;
* the renderer's ``beta`` (at ``depth_scale`` 1) and ``near``: those whose rendered optical depth, on
  the renderer's pseudo-depth of the same clean image, has the 2nd and 98th percentiles of the
  measured -log t (simulated moments, as ``rain_fit`` does for streaks).

``fit_ranges`` widens the per-pair estimates into ``sample_haze_params`` ranges
(``fitting.widened_range``) and fixes ``depth_scale`` at 1, the unit the optical depths are in.
``objects`` (depth that follows objects, ``haze.standing_regions``) is not measured: a preset sets it
by hand, and its estimates stay those of the ramp pseudo-depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.optimize import minimize_scalar

from .fitting import Fitter, Rounded, widened_range
from .haze import pseudo_depth

AIRLIGHTS = (0.3, 1.0)  # search bounds of A
TAIL = 0.02  # optical depths are read at these tails of the per-pixel distribution, robust to outliers
MIN_SPREAD = 0.15  # |J - A| below this leaves t undetermined: such pixels are not measured
MAX_RESIDUAL = 0.04  # above this RMS the pair is not scattering haze
SAMPLES = 40_000  # pixels used to find A


@dataclass(frozen=True)
class HazeEstimate(Rounded):
    """Renderer parameters (``haze.HazeParams``' units at ``depth_scale`` 1) of one hazy pair, with
    the scattering model's RMS residual and the fraction of pixels whose t could be measured."""

    airlight: float
    beta: float
    near: float
    residual: float
    measured: float


def transmission(hazy: np.ndarray, clean: np.ndarray, airlight: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel least-squares t of I - A = t (J - A), clipped to [0, 1], and where it is measured
    (|J - A| >= ``MIN_SPREAD``). Arrays are ...x3; results drop the colour axis."""
    towards = clean.astype(np.float32) - airlight
    spread = (towards * towards).sum(axis=-1)
    t = ((hazy.astype(np.float32) - airlight) * towards).sum(axis=-1) / np.maximum(spread, 1e-6)
    return np.clip(t, 0.0, 1.0), spread >= MIN_SPREAD**2


def _residual(hazy: np.ndarray, clean: np.ndarray, airlight: float) -> float:
    t, _ = transmission(hazy, clean, airlight)
    model = clean * t[..., None] + airlight * (1.0 - t[..., None])
    return float(np.sqrt(np.mean((hazy - model) ** 2)))


def estimate_airlight(hazy: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """The grey airlight A that best explains the pair, and the model's RMS residual at it."""
    pixels = hazy.shape[0] * hazy.shape[1]
    pick = np.random.default_rng(0).choice(pixels, size=min(SAMPLES, pixels), replace=False)
    h, c = (a.reshape(-1, 3)[pick].astype(np.float32) for a in (hazy, clean))
    grid = np.linspace(*AIRLIGHTS, 36)
    best = int(np.argmin([_residual(h, c, a) for a in grid]))
    step = grid[1] - grid[0]
    found = minimize_scalar(lambda a: _residual(h, c, a), method="bounded",
                            bounds=(max(grid[best] - step, AIRLIGHTS[0]), min(grid[best] + step, AIRLIGHTS[1])),
                            options={"xatol": 1e-4})
    return float(found.x), float(found.fun)


def estimate_haze(hazy: np.ndarray, clean: np.ndarray) -> HazeEstimate:
    """Airlight, far optical depth and near fraction of one float HxWx3 hazy/clean pair: the renderer's
    ``beta`` and ``near`` whose optical depth beta * (near + (1 - near) d), with d the renderer's own
    pseudo-depth of this clean image, has the measured depth's tails (so the estimate carries no bias of
    where the pseudo-depth's tails lie)."""
    airlight, residual = estimate_airlight(hazy, clean)
    t, measured = transmission(hazy, clean, airlight)
    if not measured.any():
        return HazeEstimate(airlight=airlight, beta=0.0, near=0.0, residual=residual, measured=0.0)
    depth = -np.log(np.clip(t[measured], 1e-3, 1.0))
    near_depth, far_depth = np.quantile(depth, [TAIL, 1.0 - TAIL])
    low, high = np.quantile(pseudo_depth(clean, np.random.default_rng(0))[measured], [TAIL, 1.0 - TAIL])
    ratio = near_depth / max(far_depth, 1e-6)  # = (near + (1 - near) low) / (near + (1 - near) high), solved for near
    near = float(np.clip((ratio * high - low) / max(1.0 - low - ratio + ratio * high, 1e-6), *BOUNDS["near"]))
    beta = far_depth / max(near + (1.0 - near) * high, 1e-6)
    return HazeEstimate(airlight=airlight, beta=float(beta), near=near, residual=residual, measured=float(measured.mean()))


# The least widening of each range on each side (``fitting.widened_range``), and the renderer's limits.
MARGINS = {"beta": ("relative", 0.2), "airlight": ("absolute", 0.03), "near": ("absolute", 0.05)}
BOUNDS = {"beta": (0.05, 8.0), "airlight": AIRLIGHTS, "near": (0.0, 0.95)}


def fit_ranges(estimates: list[HazeEstimate], widen: float = 0.25) -> dict:
    """``sample_haze_params`` ranges covering ``estimates``, and ``depth_scale: 1.0`` (the unit of ``beta``)."""
    if not estimates:
        raise ValueError("no haze estimates to fit")
    ranges: dict = {}
    for key in MARGINS:
        low, high = widened_range([getattr(e, key) for e in estimates], widen, MARGINS[key], BOUNDS[key])
        ranges[key] = [round(float(low), 5), round(float(high), 5)]
    ranges["depth_scale"] = 1.0
    return ranges


def _left_out(estimate: HazeEstimate) -> Optional[str]:
    if estimate.measured < 0.05:
        return f"transmission measurable on {estimate.measured:.0%} of the pixels only"
    if estimate.residual > MAX_RESIDUAL:
        return f"not scattering haze (model residual {estimate.residual:.3f} > {MAX_RESIDUAL})"
    if estimate.beta < 0.05:
        return "no haze (far optical depth below 0.05)"
    return None


def _preview(hazy: np.ndarray, clean: np.ndarray, estimate: HazeEstimate) -> tuple[np.ndarray, np.ndarray]:
    t, _ = transmission(hazy, clean, estimate.airlight)
    depth = estimate.near + (1.0 - estimate.near) * pseudo_depth(clean, np.random.default_rng(0))
    rendered = np.exp(-estimate.beta * depth)
    return np.repeat(t[..., None], 3, axis=2), np.repeat(rendered[..., None], 3, axis=2).astype(np.float32)


FITTER = Fitter(what="scattering haze", range_keys=frozenset({*MARGINS, "depth_scale", "objects"}), estimate=estimate_haze,
                left_out=_left_out, fit_ranges=fit_ranges, preview=_preview,
                preview_rows=("real transmission", "rendered"), fractions=frozenset({"objects"}))
