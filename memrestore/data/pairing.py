"""Matching degraded and clean files by name, with errors that name the offending file.

Kept free of torch so metric evaluation of folders stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import MemrestoreError
from ..io import list_images


@dataclass(frozen=True)
class Pair:
    name: str
    input: Path
    target: Path


def match_pairs(input_dir: str | Path, target_dir: str | Path) -> list[Pair]:
    """Pairs of files with the same stem; raises on missing folders, empty folders or orphans."""
    input_dir, target_dir = Path(input_dir), Path(target_dir)
    for folder in (input_dir, target_dir):
        if not folder.is_dir():
            raise MemrestoreError(f"{folder}: folder not found")
    inputs = {p.stem: p for p in list_images(input_dir)}
    targets = {p.stem: p for p in list_images(target_dir)}
    if not inputs:
        raise MemrestoreError(f"{input_dir}: no images found")
    unmatched = sorted(set(inputs) ^ set(targets))
    if unmatched:
        stem = unmatched[0]
        where = inputs.get(stem) or targets.get(stem)
        other = target_dir if stem in inputs else input_dir
        raise MemrestoreError(f"{where}: no file with the same name in {other} ({len(unmatched)} unmatched)")
    return [Pair(stem, inputs[stem], targets[stem]) for stem in sorted(inputs)]
