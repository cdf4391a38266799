"""What a renderer's fitting tool provides to ``memrestore fit-preset``, and the one rule that turns
per-pair estimates into a preset's ranges (domain randomisation).

Each fittable renderer has a module (``rain_fit``, ``haze_fit``, ``blur_fit``, ``raindrop_fit``) that
measures one real pair in the renderer's own units and exposes a ``FITTER``; ``presets.fit_preset``
runs any of them the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Optional, Protocol, Sequence

import numpy as np


class Estimate(Protocol):
    def as_dict(self) -> dict[str, float]: ...


class Rounded:
    """Mixin of the fitters' estimate dataclasses: ``as_dict`` rounds every field to 5 decimals for the
    preset file."""

    def as_dict(self) -> dict[str, float]:
        return {key: round(float(value), 5) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Fitter:
    """One renderer's fitting tool.

    ``estimate(degraded, clean)`` measures a pair; ``left_out(estimate)`` says why a pair cannot be
    fitted (None: it can); ``fit_ranges(estimates, widen)`` writes the preset's ranges, whose keys are
    ``range_keys``; ``preview(degraded, clean, estimate)`` returns the measured degradation beside one
    rendered from the estimate (HxWx3 in [0, 1]), shown in rows named ``preview_rows``; ``choices``
    names the values a non-range key may take, ``counts`` the ranges of whole numbers of at least 1 and
    ``fractions`` the ranges within [0, 1] (a preset file is checked against all three before rendering)."""

    what: str
    range_keys: frozenset[str]
    estimate: Callable[[np.ndarray, np.ndarray], Estimate]
    left_out: Callable[[Estimate], Optional[str]]
    fit_ranges: Callable[[list, float], dict]
    preview: Callable[[np.ndarray, np.ndarray, Estimate], tuple[np.ndarray, np.ndarray]]
    preview_rows: tuple[str, str]
    choices: dict[str, tuple] = field(default_factory=dict)
    counts: frozenset[str] = frozenset()
    fractions: frozenset[str] = frozenset()


def widened_range(values: Sequence[float], widen: float, margin: tuple[str, float],
                  bounds: tuple[float, float]) -> tuple[float, float]:
    """The estimates' 10th-90th percentiles (all of them below 5 values), widened on each side by
    ``widen`` times that span and by at least ``margin`` (``("relative", f)``: f times the end's value;
    ``("absolute", m)``), clipped to ``bounds``: a generator fitted to one real set alone would over-fit it."""
    array = np.asarray(values, float)
    low, high = np.quantile(array, [0.1, 0.9]) if len(array) >= 5 else (array.min(), array.max())
    room = widen * (high - low)
    kind, size = margin

    def least(value: float) -> float:
        return size * abs(value) if kind == "relative" else size

    return max(low - max(room, least(low)), bounds[0]), min(high + max(room, least(high)), bounds[1])


def solve_increasing(target: float, low: float, high: float, measure: Callable[[float], float], steps: int = 8,
                     log: bool = False) -> float:
    """The value in [low, high] whose (increasing) ``measure`` meets ``target``, by bisection (geometric
    with ``log``): how simulated moments turn a measured statistic into a renderer parameter."""
    for _ in range(steps):
        middle = np.sqrt(low * high) if log else 0.5 * (low + high)
        low, high = (middle, high) if measure(middle) < target else (low, middle)
    return float(np.sqrt(low * high) if log else 0.5 * (low + high))
