"""Named parameter ranges of the synthetic degradations (``memrestore synth --preset``), and presets
fitted to real pairs (``memrestore fit-preset``).

A preset is a dict of ranges handed to a task's renderer. Three kinds, looked up in this order:
hand-set presets (``PRESETS``), fitted presets shipped in ``fitted_presets/TASK/NAME.yaml``, and a
user's own fitted preset given as a path to its YAML file. A fitted preset file records the real set
it was fitted on and every pair's estimate beside the ranges, so a preset says where it came from.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import yaml
from tqdm import tqdm

from ..errors import MemrestoreError
from ..io import read_image, to_float_rgb
from ..io.atomic import atomic_write_text, check_output_file
from . import degrade
from .degrade.fitting import Fitter
from .region import crop as region_crop
from .region import region_error

# The first preset of a task is its default. Hand-set ones were calibrated against the real sets by
# benchmarks/realism.py (RESULTS.md, "Synthetic realism").
PRESETS: dict[str, dict[str, dict]] = {
    "derain": {"light": degrade.LIGHT_RAIN, "heavy": {}},
    "raindrop": {"default": {}},
    "deshadow": {"default": {}},
    "deblur": {"gopro": {"linear": False}, "linear-light": {}},  # GoPro_Large's `blur` vs `blur_gamma` (blur.py)
    "dehaze": {"sots": {"depth_scale": 1.35}, "light": {"depth_scale": 0.7}},
    "timelapse": {"light": degrade.LIGHT_RAIN, "heavy": {}},
}
TASKS = tuple(PRESETS)
FITTED = Path(__file__).parent / "fitted_presets"
FITTABLE = ("derain", "timelapse", "dehaze", "deblur", "raindrop")  # tasks whose renderer has a fitting tool


def fitter(task: str) -> Fitter:
    """The fitting tool of ``task``'s renderer (rain streaks, scattering haze, motion blur, raindrops)."""
    if task not in FITTABLE:
        raise MemrestoreError(f"--task {task}: fitting is implemented for {', '.join(FITTABLE)} only")
    from .degrade import blur_fit, haze_fit, rain_fit, raindrop_fit

    return {"derain": rain_fit.FITTER, "dehaze": haze_fit.FITTER, "deblur": blur_fit.FITTER,
            "raindrop": raindrop_fit.FITTER}[renderer(task)]


def renderer(task: str) -> str:
    """The task whose renderer (and fitted presets) ``task`` uses: time-lapse frames are rain."""
    return "derain" if task == "timelapse" else task


def fitted_presets(task: str) -> dict[str, Path]:
    """The fitted presets shipped for ``task``: name -> YAML file."""
    folder = FITTED / renderer(task)
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def preset_names(task: str) -> list[str]:
    return [*PRESETS[task], *fitted_presets(task)]


def preset_ranges(task: str, preset: Optional[str]) -> dict:
    """Ranges of ``preset`` (a name, or a fitted preset's YAML file) for ``task``; None: the default."""
    if task not in PRESETS:
        raise MemrestoreError(f"unknown synthetic task {task!r} (available: {', '.join(TASKS)})")
    name = preset or next(iter(PRESETS[task]))
    if name in PRESETS[task]:
        return PRESETS[task][name]
    path = fitted_presets(task).get(name)
    if path is None and name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise MemrestoreError(f"{path}: preset file not found")
    if path is None:
        raise MemrestoreError(f"unknown {task} preset {name!r} (available: {', '.join(preset_names(task))}, "
                              "or a file written by `memrestore fit-preset`)")
    return read_fitted(path, task)


def read_fitted(path: Path, task: str) -> dict:
    """The ranges of a fitted preset file, checked to be for ``task``'s renderer."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MemrestoreError(f"{path}: not a readable preset file ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict) or not isinstance(document.get("ranges"), dict):
        raise MemrestoreError(f"{path}: not a preset file (no 'ranges' mapping)")
    if document.get("task") != renderer(task):
        raise MemrestoreError(f"{path}: a preset for {document.get('task')!r}, not for {task!r}")
    tool = fitter(task)
    unknown = set(document["ranges"]) - tool.range_keys
    if unknown:
        raise MemrestoreError(f"{path}: unknown range(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(tool.range_keys))})")
    for key, allowed in tool.choices.items():
        if key in document["ranges"] and document["ranges"][key] not in allowed:
            raise MemrestoreError(f"{path}: {key}: {document['ranges'][key]!r} is not one of "
                                  f"{', '.join(map(str, allowed))}")
    kinds = ((tool.counts, lambda v: isinstance(v, int) and v >= 1, "of whole numbers, 1 <= low <= high"),
             (tool.fractions, lambda v: isinstance(v, (int, float)) and 0 <= v <= 1, "with 0 <= low <= high <= 1"))
    for keys, valid, what in kinds:
        for key in keys & set(document["ranges"]):
            value = document["ranges"][key]
            if not (isinstance(value, list) and len(value) == 2 and all(map(valid, value)) and value[0] <= value[1]):
                raise MemrestoreError(f"{path}: {key}: {value!r} is not [low, high] {what}")
    return {key: tuple(value) if isinstance(value, list) else value for key, value in document["ranges"].items()}


def fit_preset(real: str | Path, task: str, output: str | Path, match: Optional[str] = None, layout: str = "auto",
               widen: float = 0.25, preview: bool = True, crop: Optional[Sequence[float]] = None) -> dict:
    """Fit ``task``'s renderer ranges to the real pairs of ``real`` (those whose input name matches
    ``match``; only their ``crop`` region, see ``data.region``, when given) with the renderer's
    ``Fitter``, write the preset YAML to ``output`` (and, with
    ``preview``, a PNG beside it: the measured degradation of the first pairs above one rendered from
    each pair's estimate); returns the written document. Pairs the fitter cannot fit (rain without a
    dominant streak direction, pairs that are not scattering haze, no blur or drops) are listed under
    ``left_out`` with why."""
    from .layouts import guess_layout, read_layout

    fit = fitter(task)
    if crop is not None and (problem := region_error(crop)):
        raise MemrestoreError(f"--{problem}")
    real, output = Path(real), check_output_file(output)
    if not real.is_dir():
        raise MemrestoreError(f"{real}: folder not found")
    pairs = read_layout(guess_layout(real) if layout == "auto" else layout, str(real))
    pairs = [p for p in pairs if match is None or fnmatch.fnmatch(Path(p.input).name, match)]
    if not pairs:
        raise MemrestoreError(f"{real}: no pairs{f' whose input matches {match!r}' if match else ''} to fit")
    estimates, left_out = [], {}
    shown: dict[str, list[np.ndarray]] = {row: [] for row in fit.preview_rows}
    for pair in tqdm(pairs, desc=f"fit {task} preset", unit="pair"):
        degraded, clean = (to_float_rgb(read_image(p)) for p in (pair.input, pair.target))
        if degraded.shape != clean.shape:
            raise MemrestoreError(f"{pair.input}: size differs from {pair.target}")
        if crop is not None:
            degraded, clean = region_crop(degraded, crop), region_crop(clean, crop)
        estimate = fit.estimate(degraded, clean)
        name = Path(pair.input).relative_to(real).as_posix() if Path(pair.input).is_relative_to(real) else str(pair.input)
        reason = fit.left_out(estimate)
        if reason:
            left_out[name] = {**estimate.as_dict(), "why": reason}
            continue
        estimates.append((name, estimate))
        if preview and len(estimates) <= 4:
            for row, image in zip(fit.preview_rows, fit.preview(degraded, clean, estimate)):
                shown[row].append(image)
    if not estimates:
        reasons = sorted({entry["why"].split(" (")[0] for entry in left_out.values()})
        raise MemrestoreError(f"{real}: no pair shows {fit.what} ({'; '.join(reasons)}, in all {len(left_out)}): "
                              f"the {task} renderer cannot be fitted to it")
    document = {
        "task": renderer(task),
        "fitted_on": real.name + (f" (inputs matching {match})" if match else "") + (f" (region {list(crop)})" if crop else ""),
        "pairs": len(estimates),
        "widen": widen,
        "ranges": fit.fit_ranges([e for _, e in estimates], widen),
        "estimates": {name: e.as_dict() for name, e in estimates},
        "left_out": left_out,
    }
    atomic_write_text(output, yaml.safe_dump(document, sort_keys=False, default_flow_style=None))
    if preview:
        from ..visualize import save_comparison_grid

        save_comparison_grid(shown, output.with_suffix(".png"), height=200)
    return document
