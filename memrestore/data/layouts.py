"""Readers for the folder layouts public restoration datasets are distributed in.

Each reader takes the dataset ``root`` (plus layout options from the config) and returns the list of
pairs; all of them join names through ``pairing.join_files``, so they share its loud errors and its
``strict: false`` skipping. Selected by ``data.train.type`` (``LAYOUTS`` below).

Layouts (``root`` is the folder you unpacked):

- ``paired``: ``input/``, ``target/`` (optional ``mask/``), same stems (memrestore's own layout).
- ``folders``: two arbitrary folders with a name-mapping rule, e.g. ``input_pattern: rain-{}``,
  ``target_pattern: norain-{}`` pairs ``rain-001.png`` with ``norain-001.png``.
- ``istd``: ``{split}_A`` shadow, ``{split}_B`` mask, ``{split}_C`` shadow-free (Wang et al. 2018).
- ``srd``: ``{split}/shadow`` + ``{split}/shadow_free`` (``X`` <-> ``X_free`` or ``X_no_shadow``),
  optional ``{split}/mask``; the ISTD-style ``{split}/{split}_A|B|C`` re-packaging is read too.
- ``rain``: ``rain/`` + ``norain/`` (Rain100L/H, Rain12, Rain1400, Test1200): ``norain-12x2`` <->
  ``norain-12``, ``rain-12`` <-> ``norain-12``, Rain1400's ``901_3`` <-> ``901``; a ``rain/X2``
  sub-folder (JORDER's packaging) is used when present.
- ``spa``: SPA-Data test set: ``rain/NAME`` <-> ``gt/NAMEgt`` (or same stem).
- ``raindrop``: Qian et al.: ``data/N_rain`` <-> ``gt/N_clean``.
- ``gopro``: ``{split}/<sequence>/blur/`` (or ``blur_gamma``) <-> ``<sequence>/sharp/``; names
  are ``<sequence>_<frame>``.
- ``gtrain``: time-lapse scenes scored frame by frame, ``<scene>/<frame>`` <-> ``<scene>/clean.png``
  (GT-RAIN's test packaging, Ba et al. ECCV 2022); names are ``<scene>_<frame>``.
- ``reside``: ``hazy/NNNN_k[_beta]`` <-> ``GT/NNNN`` (or ``clear/``), or ``GT/NNNN_k`` when the
  clean folder holds one file per hazy image (SOTS/ITS/OTS).
"""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path
from typing import Callable, Optional

from ..errors import MemrestoreError
from ..io import list_images
from .pairing import (
    Pair,
    existing_dir,
    join_files,
    match_folders,
    report_skipped,
    stem_key,
    strip_key,
    template_key,
)

log = logging.getLogger(__name__)


def first_dir(root: Path, *names: str) -> Path:
    """The first of ``root/name`` that exists (error listing all candidates otherwise)."""
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise MemrestoreError(f"{root}: none of the folders {', '.join(names)} found")


def paired(root: str, strict: bool = True, input_dir: str = "input", target_dir: str = "target",
           mask_dir: Optional[str] = None) -> list[Pair]:
    root_path = Path(root)
    mask = root_path / mask_dir if mask_dir else None
    return match_folders(root_path / input_dir, root_path / target_dir, strict=strict, mask_dir=mask)


def folders(root: str, strict: bool = True, input_dir: str = "input", target_dir: str = "target",
            input_pattern: str = "{}", target_pattern: str = "{}") -> list[Pair]:
    root_path = Path(root)
    return match_folders(root_path / input_dir, root_path / target_dir, template_key(input_pattern),
                         template_key(target_pattern), strict)


def istd(root: str, strict: bool = True, split: str = "test", masks: bool = True) -> list[Pair]:
    base = Path(root)
    if not (base / f"{split}_A").is_dir() and (base / split / f"{split}_A").is_dir():
        base = base / split  # ISTD re-packaged as train/train_A, test/test_A
    return match_folders(base / f"{split}_A", base / f"{split}_C", strict=strict,
                         mask_dir=base / f"{split}_B" if masks else None)


def srd(root: str, strict: bool = True, split: str = "test", masks: bool = False) -> list[Pair]:
    base = first_dir(Path(root), split, split.capitalize())
    if (base / f"{split}_A").is_dir():
        return istd(str(base), strict, split, masks)
    free_key = strip_key(suffixes=("_no_shadow", "_free", "_shadowfree"))
    return match_folders(base / "shadow", first_dir(base, "shadow_free", "shadowfree", "gt"), stem_key, free_key,
                         strict, mask_dir=base / "mask" if masks else None)


def rain(root: str, strict: bool = True, input_dir: str = "rain", target_dir: str = "norain") -> list[Pair]:
    inputs = existing_dir(Path(root) / input_dir)
    if (inputs / "X2").is_dir() and not list_images(inputs):
        inputs = inputs / "X2"
    prefixes, suffixes = ("norain-", "rain-", "norain_", "rain_"), ("x2",)
    key = strip_key(prefixes, suffixes)
    return match_folders(inputs, Path(root) / target_dir, key, key, strict,
                         fallback_key=strip_key(prefixes, suffixes, split="_"))


def spa(root: str, strict: bool = True) -> list[Pair]:
    return match_folders(Path(root) / "rain", first_dir(Path(root), "gt", "norain"), stem_key,
                         strip_key(suffixes=("gt",)), strict)


def raindrop(root: str, strict: bool = True) -> list[Pair]:
    return match_folders(Path(root) / "data", Path(root) / "gt", strip_key(suffixes=("_rain",)),
                         strip_key(suffixes=("_clean",)), strict)


def gopro(root: str, strict: bool = True, split: str = "test", blur_dir: str = "blur") -> list[Pair]:
    base = Path(root)
    if (base / split).is_dir():
        base = base / split
    sequences = sorted(p for p in existing_dir(base).iterdir() if (p / "sharp").is_dir())
    if not sequences:
        raise MemrestoreError(f"{base}: no <sequence>/sharp folders found")
    pairs, skipped = [], []
    for seq in sequences:
        blurred = list_images(existing_dir(seq / blur_dir))
        sharp = list_images(seq / "sharp")
        found, missed = join_files(blurred, sharp, strict=strict, name=lambda p, s=seq.name: f"{s}_{p.stem}")
        pairs += found
        skipped += missed
    report_skipped(base, skipped)
    if not pairs:
        raise MemrestoreError(f"{base}: no blurred frame matches a sharp frame")
    return pairs


def reside(root: str, strict: bool = True) -> list[Pair]:
    base = Path(root)
    return match_folders(base / "hazy", first_dir(base, "GT", "gt", "clear"), stem_key, stem_key, strict,
                         fallback_key=strip_key(split="_"))


def gtrain(root: str, strict: bool = True, clean_name: str = "clean") -> list[Pair]:
    from .timelapse_dataset import read_timelapse  # scene discovery is the time-lapse reader's

    scenes = read_timelapse(root, strict, clean_name, min_frames=1)
    missing = [s.name for s in scenes if s.clean is None]
    if missing:
        raise MemrestoreError(f"{Path(root) / missing[0]}: no {clean_name!r} frame to score the scene's frames against")
    return [Pair(f"{scene.name}_{frame.stem}", frame, scene.clean) for scene in scenes for frame in scene.frames]


def guess_layout(root: str | Path) -> str:
    """``paired`` for memrestore's own ``input/`` + ``target/`` folders, ``gtrain`` for scene folders."""
    return "paired" if (Path(root) / "input").is_dir() or not Path(root).is_dir() else "gtrain"


LayoutReader = Callable[..., list[Pair]]
LAYOUTS: dict[str, LayoutReader] = {
    "paired": paired, "folders": folders, "istd": istd, "srd": srd, "rain": rain, "spa": spa,
    "raindrop": raindrop, "gopro": gopro, "reside": reside, "gtrain": gtrain,
}


def read_layout(layout: str, root: str, strict: bool = True, **options) -> list[Pair]:
    """Pairs of dataset ``root`` read with the named layout; logs what it found."""
    if layout not in LAYOUTS:
        raise MemrestoreError(f"unknown dataset layout {layout!r} (known: {', '.join([*LAYOUTS, 'timelapse'])})")
    pairs = LAYOUTS[layout](root, strict=strict, **options)
    masks = sum(p.mask is not None for p in pairs)
    log.info("%s (%s layout): %d pairs%s", root, layout, len(pairs), f", {masks} masks" if masks else "")
    return pairs


def selected_pairs(layout: str, root: str | Path, include: str = "*", **options) -> list[Pair]:
    """The pairs of ``root`` (read with ``layout`` and its ``options``) whose input file name, or pair
    name for scene layouts, matches the ``include`` glob: how suites and model cards name a held-out subset."""
    pairs = read_layout(layout, str(root), **options)
    return [p for p in pairs if fnmatch.fnmatch(p.input.name if layout != "gtrain" else p.name, include)]
