"""Matching degraded and clean files by a join key, with errors that name the offending file.

Every dataset layout reduces to this: list the degraded files and the clean files, derive a key from
each name (the stem itself, or the stem with a layout's prefixes/suffixes removed), and join. Several
degraded files may share one clean file (Rain1400's 14 renderings, RESIDE's haze levels). Anything
that does not join is an error naming the file, unless ``strict=False``, which skips it and logs
what was skipped. Kept free of torch so metric evaluation of folders stays light.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..errors import MemrestoreError
from ..io import list_images

log = logging.getLogger(__name__)

KeyFn = Callable[[str], Optional[str]]


@dataclass(frozen=True)
class Pair:
    """One training/test example: degraded ``input``, clean ``target``, optional binary ``mask``."""

    name: str
    input: Path
    target: Path
    mask: Optional[Path] = None


def stem_key(stem: str) -> str:
    return stem


def template_key(template: str) -> KeyFn:
    """Key function for names like ``template`` with ``{}`` standing for the key:
    ``template_key("rain-{}")("rain-012") == "012"``; names not of that form give ``None``."""
    if template.count("{}") != 1:
        raise MemrestoreError(f"name pattern {template!r} must contain '{{}}' exactly once")
    before, after = (re.escape(part) for part in template.split("{}"))
    pattern = re.compile(f"^{before}(.+?){after}$")

    def key(stem: str) -> Optional[str]:
        match = pattern.match(stem)
        return match.group(1) if match else None

    return key


def strip_key(prefixes: Iterable[str] = (), suffixes: Iterable[str] = (), split: Optional[str] = None) -> KeyFn:
    """Key = stem without the first matching prefix and suffix (case-insensitive), optionally cut
    at the first ``split`` character (``"0001_3"`` -> ``"0001"``)."""
    prefixes, suffixes = tuple(prefixes), tuple(suffixes)

    def key(stem: str) -> str:
        low = stem.lower()
        for prefix in prefixes:
            if low.startswith(prefix):
                stem, low = stem[len(prefix):], low[len(prefix):]
                break
        for suffix in suffixes:
            if low.endswith(suffix) and len(low) > len(suffix):
                stem = stem[: -len(suffix)]
                break
        if split is not None:
            stem = stem.split(split, 1)[0]
        return stem

    return key


def existing_dir(folder: Path) -> Path:
    if not folder.is_dir():
        raise MemrestoreError(f"{folder}: folder not found")
    return folder


def report_skipped(where: Path, skipped: list[str], what: str = "unmatched file(s)") -> None:
    """One warning listing (the first few of) the problems ``strict: false`` skipped."""
    if skipped:
        shown = "; ".join(skipped[:5]) + (f"; ... {len(skipped) - 5} more" if len(skipped) > 5 else "")
        log.warning("%s: skipped %d %s (strict: false): %s", where, len(skipped), what, shown)


def join_files(
    inputs: list[Path],
    targets: list[Path],
    input_key: KeyFn = stem_key,
    target_key: KeyFn = stem_key,
    strict: bool = True,
    masks: Optional[list[Path]] = None,
    name: Callable[[Path], str] = lambda p: p.stem,
    fallback_key: Optional[KeyFn] = None,
) -> tuple[list[Pair], list[str]]:
    """Join degraded to clean files by key (many-to-one allowed); masks join by the input's key.

    ``fallback_key`` is tried on an input whose own key finds no target (e.g. RESIDE's
    ``NNNN_k`` -> ``NNNN`` when the clean folder has one file per scene). Returns the pairs and a
    list of ``"FILE: reason"`` strings for what was skipped (always empty when ``strict``).
    """
    skipped: list[str] = []

    def reject(problem: str) -> None:
        if strict:
            raise MemrestoreError(problem)
        skipped.append(problem)

    by_key: dict[str, Path] = {}
    for path in targets:
        key = target_key(path.stem)
        if key is None:
            reject(f"{path}: name does not follow the clean files' naming pattern")
        elif key in by_key:
            raise MemrestoreError(f"{path}: same key {key!r} as {by_key[key]}; the names are ambiguous")
        else:
            by_key[key] = path
    mask_by_key = {target_key(p.stem) or p.stem: p for p in masks} if masks is not None else {}
    pairs, used = [], set()
    for path in inputs:
        key = input_key(path.stem)
        if key is not None and key not in by_key and fallback_key is not None:
            key = fallback_key(path.stem)
        if key is None or key not in by_key:
            reject(f"{path}: no matching clean file in {targets[0].parent if targets else 'the clean folder'}")
            continue
        mask = mask_by_key.get(key) or mask_by_key.get(input_key(path.stem) or "")
        if masks is not None and mask is None:
            reject(f"{path}: no mask with the same name")
            continue
        used.add(key)
        pairs.append(Pair(name(path), path, by_key[key], mask))
    for key, path in by_key.items():
        if key not in used:
            reject(f"{path}: no degraded file matches it")
    return sorted(pairs, key=lambda p: p.name), skipped


def match_folders(
    input_dir: str | Path,
    target_dir: str | Path,
    input_key: KeyFn = stem_key,
    target_key: KeyFn = stem_key,
    strict: bool = True,
    mask_dir: str | Path | None = None,
    fallback_key: Optional[KeyFn] = None,
) -> list[Pair]:
    """Pairs from two folders (and an optional mask folder); raises on missing or empty folders,
    and on unmatched files unless ``strict=False`` (then they are skipped and logged)."""
    input_dir, target_dir = existing_dir(Path(input_dir)), existing_dir(Path(target_dir))
    inputs, targets = list_images(input_dir), list_images(target_dir)
    for folder, files in ((input_dir, inputs), (target_dir, targets)):
        if not files:
            raise MemrestoreError(f"{folder}: no images found")
    masks = list_images(existing_dir(Path(mask_dir))) if mask_dir is not None else None
    pairs, skipped = join_files(inputs, targets, input_key, target_key, strict, masks, fallback_key=fallback_key)
    report_skipped(input_dir, skipped)
    if not pairs:
        raise MemrestoreError(f"{input_dir}: no file matches a file in {target_dir}")
    return pairs


def match_pairs(input_dir: str | Path, target_dir: str | Path) -> list[Pair]:
    """Pairs of files with the same stem; raises on missing folders, empty folders or orphans."""
    return match_folders(input_dir, target_dir)
