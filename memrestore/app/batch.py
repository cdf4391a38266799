"""What the web app does with a batch of uploads, free of any web framework (so it is tested directly).

``BatchRestorer`` restores uploaded files through ``Restorer.restore_file``, the same file-to-file path
as ``memrestore restore``, so a download carries the pixels, format and bit depth the CLI writes.
A file that fails (not an image, truncated, too large) is one line in the batch's report and the
batch goes on. Results stay in a folder per request; ``preview`` makes the browser-viewable 8-bit
copy the before/after slider shows, ``zoom_pair`` the magnified crop, ``zip_results`` the archive.
"""

from __future__ import annotations

import functools
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from ..errors import MemrestoreError
from ..io import ensure_dir, read_image, to_float_rgb, write_image
from ..io.arrays import from_float
from ..io.atomic import atomic_path
from ..io.images import DEFAULT_MAX_PIXELS, is_image_file
from ..pretrained import TASKS

# What each packaged task removes, as the model menu names it.
TASK_TITLES = {"derain": "Rain streaks", "raindrop": "Raindrops on glass", "deshadow": "Shadows",
               "deblur": "Motion blur", "dehaze": "Haze", "timelapse": "Rain in a time-lapse frame"}
PREVIEW_SIDE = 1600  # longest side of the slider's preview images, in pixels
ZOOM_CROP, ZOOM_SCALE = 128, 3  # the zoomed view: a crop of this many pixels, magnified this many times


@dataclass
class FileResult:
    """One upload: where its restoration went, or the one-line reason it failed."""

    name: str
    source: Path
    output: Path | None = None
    error: str | None = None


@dataclass
class BatchReport:
    """The outcome of one request: every upload's result and the files that were not images."""

    folder: Path
    results: list[FileResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def restored(self) -> list[FileResult]:
        return [r for r in self.results if r.output is not None]

    def summary(self) -> str:
        """``restored N of M images, K failed`` plus one line per failure (Markdown)."""
        failed = [r for r in self.results if r.error]
        lines = [f"restored {len(self.restored)} of {len(self.results)} images, {len(failed)} failed"]
        if self.skipped:
            lines[0] += f"; skipped {len(self.skipped)} files in the folder that are not images"
        lines += [f"- {r.error}" for r in failed]
        return "\n".join(lines)


def model_choices(checkpoints: Iterable[str | Path] = ()) -> list[tuple[str, str]]:
    """(menu label, what ``memrestore.load`` takes) for every packaged task and each given checkpoint."""
    from ..pretrained import model_cards

    cards = model_cards()
    choices = [(f"{TASK_TITLES[task]} ({task})", task) for task in TASKS if task in cards]
    choices += [(f"Checkpoint {Path(path).name}", str(path)) for path in checkpoints]
    return choices


def gather_uploads(files: Iterable[str | Path], folder_files: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Uploaded files as given, plus the image files of an uploaded folder; returns (files to restore,
    names in the folder that were left out because they are not images). Explicitly uploaded files
    are all tried, so a non-image among them gets its one-line error."""
    paths = [Path(f) for f in files]
    skipped = []
    for item in map(Path, folder_files):
        if item.name.startswith("."):
            continue
        if is_image_file(item):
            paths.append(item)
        else:
            skipped.append(item.name)
    return paths, skipped


class BatchRestorer:
    """Loads models on demand (one at a time, kept for the next request) and restores uploads into
    ``work / <request>``. Request folders older than ``keep_seconds`` are removed as new ones come."""

    def __init__(self, work: str | Path, device: str = "auto", max_memory: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, keep_seconds: float = 24 * 3600):
        from ..api import DEFAULT_MEMORY_BUDGET

        self.work = ensure_dir(work)
        self.device, self.max_pixels, self.keep_seconds = device, max_pixels, keep_seconds
        self.max_memory = max_memory or DEFAULT_MEMORY_BUDGET
        self._lock = threading.Lock()
        self._loaded: tuple[str, object] | None = None
        self._requests = 0

    def restorer(self, source: str):
        """The ``Restorer`` for a task name or checkpoint path (loaded once, then reused)."""
        from ..api import load

        with self._lock:
            if self._loaded is None or self._loaded[0] != source:
                self._loaded = (source, load(source, device=self.device, max_memory=self.max_memory))
            return self._loaded[1]

    def _request_folder(self) -> Path:
        with self._lock:
            self._requests += 1
            stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{self._requests:04d}"
        for old in self.work.glob("request-*"):
            if time.time() - old.stat().st_mtime > self.keep_seconds:
                _remove_tree(old)
        return ensure_dir(self.work / f"request-{stamp}")

    def restore(self, source: str, uploads: list[Path], skipped: list[str] | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> BatchReport:
        """Restore every upload with the model ``source``; a model that cannot be loaded raises
        ``MemrestoreError`` before any image is read."""
        if not uploads:
            raise MemrestoreError("no photos uploaded: add image files or a folder first")
        restorer = self.restorer(source)
        report = BatchReport(self._request_folder(), skipped=list(skipped or []))
        seen: set[str] = set()
        for index, path in enumerate(uploads):
            if progress:
                progress(index, len(uploads), path.name)
            result = FileResult(path.name, path)
            try:
                if path.name in seen:
                    raise MemrestoreError(f"{path.name}: another upload has the same name; rename one of them")
                seen.add(path.name)
                if not is_image_file(path):
                    raise MemrestoreError(f"{path.name}: not an image file name (expected one of .png .jpg .bmp "
                                          ".tif .webp)")
                target = report.folder / path.name
                restorer.restore_file(path, target, self.max_pixels)
                result.output = target
            except MemrestoreError as exc:
                # name the file as the user knows it, not by the server's upload path
                message = str(exc).replace(str(path), path.name)
                result.error = message if message.startswith(path.name) else f"{path.name}: {message}"
            report.results.append(result)
        if progress:
            progress(len(uploads), len(uploads), "done")
        return report


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=2)  # the pair on view: moving the zoom does not decode them again
def viewable_rgb(path: str | Path) -> np.ndarray:
    """Any image memrestore reads (16-bit, grey, alpha, TIFF) as float RGB in [0, 1]. Uploads and
    results are never changed once written, so a decoded one is kept (read-only) for the next zoom."""
    rgb = to_float_rgb(read_image(path))
    rgb.setflags(write=False)
    return rgb


def preview(path: str | Path, out: str | Path, side: int = PREVIEW_SIDE) -> Path:
    """An 8-bit PNG copy of ``path`` that every browser shows, at most ``side`` pixels long."""
    image = Image.fromarray(from_float(viewable_rgb(path), np.uint8))
    image.thumbnail((side, side), Image.LANCZOS)
    write_image(out, np.asarray(image))
    return Path(out)


def zoom_pair(before: np.ndarray, after: np.ndarray, x: float, y: float, crop: int = ZOOM_CROP,
              scale: int = ZOOM_SCALE) -> np.ndarray:
    """Side-by-side uint8 magnification of the same ``crop`` x ``crop`` region of two float RGB images
    (nearest neighbour, so the pixels themselves are seen); ``x``, ``y`` in [0, 1] place the crop's
    centre across the image."""
    if before.shape != after.shape:
        raise ValueError(f"images differ in size: {before.shape} vs {after.shape}")
    height, width = before.shape[:2]
    ch, cw = min(crop, height), min(crop, width)
    top = int(round(np.clip(y, 0, 1) * (height - ch)))
    left = int(round(np.clip(x, 0, 1) * (width - cw)))
    gap = np.ones((ch * scale, 4 * scale, 3), np.float32)
    tiles = [np.repeat(np.repeat(image[top:top + ch, left:left + cw], scale, 0), scale, 1) for image in (before, after)]
    return from_float(np.concatenate([tiles[0], gap, tiles[1]], axis=1), np.uint8)


def zip_results(report: BatchReport) -> Path:
    """Every restored file of ``report`` in one archive beside them (written atomically)."""
    path = report.folder / "restored.zip"
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for result in report.restored:
                archive.write(result.output, arcname=result.name)
    return path
