"""Metrics over paired folders of restored and reference images (``memrestore eval``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..data.pairing import match_pairs
from ..errors import MemrestoreError
from ..io import read_image
from ..io.atomic import atomic_write_text
from . import psnr_ssim


def evaluate_folders(pred_dir: str | Path, target_dir: str | Path, convention: str = "rgb", crop_border: int = 0) -> list[dict]:
    """One row per image (``name``, ``psnr``, ``ssim``), files matched by stem."""
    rows = []
    for pair in match_pairs(pred_dir, target_dir):
        pred, target = read_image(pair.input).pixels, read_image(pair.target).pixels
        if pred.shape != target.shape:
            raise MemrestoreError(f"{pair.input} has shape {pred.shape} but {pair.target} has {target.shape}")
        if pred.dtype != target.dtype:  # compare on a common [0, 1] float scale
            pred, target = (a.astype(np.float64) / np.iinfo(a.dtype).max for a in (pred, target))
        try:
            scores = psnr_ssim(pred, target, convention, crop_border)
        except ValueError as exc:  # too small for the SSIM window or the crop border
            raise MemrestoreError(f"{pair.input}: {exc}") from None
        rows.append({"name": pair.name, **scores})
    return rows


def mean_row(rows: list[dict]) -> dict:
    return {"name": "mean", **{k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "name"}}


def write_csv(path: str | Path, rows: list[dict], convention: str) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["name", "psnr", "ssim", "convention"])
    writer.writeheader()
    for row in [*rows, mean_row(rows)]:
        writer.writerow({**row, "convention": convention})
    atomic_write_text(path, buffer.getvalue())
