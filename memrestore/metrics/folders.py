"""Metrics over folders of restored images (``memrestore eval``): against a folder of references
matched by file name, or against a dataset as it is distributed (``layout``: the readers training
uses, e.g. Rain100L's ``rain-1.png`` / ``norain-1.png``), where each restored file carries the name of
the degraded image it came from. Pairs with a shadow mask (ISTD) also get the ISTD LAB errors. A
no-reference measure (``noreference.py``) scores the restored images alone, with or without references."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..data.layouts import read_layout
from ..data.pairing import Pair, match_pairs
from ..errors import MemrestoreError
from ..io import list_images, read_image
from ..io.atomic import atomic_write_text
from . import psnr_ssim
from .noreference import no_reference_measure, score_image_file
from .shadow import REGIONS, ShadowMAE, shadow_lab_errors


def scoring_pairs(pred_dir: str | Path, target: str | Path, layout: str | None = None, **options) -> list[Pair]:
    """(restored, reference[, mask]) pairs. Without ``layout``: files of the two folders with the same
    stem. With it: the dataset's pairs, each restored file found by the pair's name or the stem of
    its degraded image (``memrestore restore`` keeps names)."""
    if layout is None:
        return match_pairs(pred_dir, target)
    dataset = read_layout(layout, str(target), strict=True, **options)
    restored = {p.stem: p for p in list_images(pred_dir)} if Path(pred_dir).is_dir() else {}
    pairs, missing = [], []
    for pair in dataset:
        found = restored.get(pair.name) or restored.get(pair.input.stem)
        if found is None:
            missing.append(pair.input.name)
        else:
            pairs.append(Pair(pair.name, found, pair.target, pair.mask))
    if missing:
        raise MemrestoreError(f"{pred_dir}: no restored image for {len(missing)} of the {len(dataset)} images of the "
                              f"{layout} dataset {target} (first: {missing[0]}; restored files keep the degraded image's name)")
    return pairs


def check_scoring(target: str | Path | None, no_reference: str | None) -> None:
    """Restorations are scored against references (``target``), by a no-reference measure, or both."""
    if target is None and not no_reference:
        raise MemrestoreError("eval needs --target (references) or --no-reference MEASURE (no references)")


def evaluate_folders(pred_dir: str | Path, target: str | Path | None, convention: str = "rgb", crop_border: int = 0,
                     layout: str | None = None, no_reference: str | None = None, **options) -> list[dict]:
    """One row per image (``name``, ``psnr``, ``ssim``; with shadow masks also ``mae_all``,
    ``mae_non_shadow``, ``mae_shadow``: the ISTD LAB errors; with ``no_reference`` also that measure
    of the restored image). Without ``target``: every image of ``pred_dir``, scored by the
    ``no_reference`` measure alone."""
    check_scoring(target, no_reference)
    measure = no_reference_measure(no_reference) if no_reference else None
    if target is None:
        images = list_images(Path(pred_dir)) if Path(pred_dir).is_dir() else []
        if not images:
            raise MemrestoreError(f"{pred_dir}: no images to score")
        return [{"name": path.stem, measure.name: score_image_file(path, measure)} for path in images]
    rows = []
    for pair in scoring_pairs(pred_dir, target, layout, **options):
        pred, reference = read_image(pair.input).pixels, read_image(pair.target).pixels
        if pred.shape != reference.shape:
            raise MemrestoreError(f"{pair.input} has shape {pred.shape} but {pair.target} has {reference.shape}")
        if pred.dtype != reference.dtype:  # compare on a common [0, 1] float scale
            pred, reference = (a.astype(np.float64) / np.iinfo(a.dtype).max for a in (pred, reference))
        try:
            row = {"name": pair.name, **psnr_ssim(pred, reference, convention, crop_border)}
        except ValueError as exc:  # too small for the SSIM window or the crop border
            raise MemrestoreError(f"{pair.input}: {exc}") from None
        if pair.mask is not None:
            errors = shadow_lab_errors(pred, reference, read_image(pair.mask).pixels)
            row.update({f"mae_{region}": errors.mae(region) for region in REGIONS})
            row["_shadow"] = errors
        if measure is not None:
            row[measure.name] = score_image_file(pair.input, measure)
        rows.append(row)
    return rows


def mean_row(rows: list[dict]) -> dict:
    """The mean of every score; for shadow rows the ISTD per-pixel totals are added as ``total_mae_*``."""
    mean = {"name": "mean", **{k: float(np.mean([r[k] for r in rows])) for k in rows[0] if not k.startswith(("name", "_"))}}
    if "_shadow" in rows[0]:
        totals = ShadowMAE([r["_shadow"] for r in rows]).per_pixel_total()
        mean.update({f"total_mae_{region}": value for region, value in totals.items()})
    return mean


def score_columns(rows: list[dict]) -> list[str]:
    """The score columns of ``rows`` (psnr, ssim, then any shadow errors)."""
    return [k for k in rows[0] if k != "name" and not k.startswith("_")]


def write_csv(path: str | Path, rows: list[dict], convention: str) -> None:
    buffer = io.StringIO()
    columns = score_columns(rows)
    writer = csv.DictWriter(buffer, fieldnames=["name", *columns, "convention"], extrasaction="ignore")
    writer.writeheader()
    for row in [*rows, mean_row(rows)]:
        writer.writerow({**row, "convention": convention})
    atomic_write_text(path, buffer.getvalue())
