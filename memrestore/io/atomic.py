"""Crash-safe, race-safe file writes: the one path every output of memrestore takes.

A file is written to a temporary file in the same folder, fsynced, given the permissions the umask
allows (``mkstemp`` alone would leave 0600), then moved into place in one step: a reader (or a
resumed run) sees either the old file or the complete new one, never a half-written file, even if the
process is killed mid-write. ``exclusive=True`` moves it into place only if no file of that name
exists *at that moment* (a hard link, which fails atomically), so two runs writing into one folder
never replace each other's outputs. Any ``OSError`` (disk full, read-only folder, a folder where a
file is expected) becomes one ``OutputWriteError`` naming the file and the cause.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import OutputExistsError, OutputWriteError

_TEMP_MARK = ".tmp"  # temporaries are ".<name>.<random>.tmp<suffix>" beside their target


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def describe_os_error(exc: OSError) -> str:
    """The cause of an OSError in words (``No space left on device``), without paths or errno noise."""
    return exc.strerror or str(exc) or type(exc).__name__


def check_output_folder(path: str | Path) -> Path:
    """Raise ``OutputWriteError`` now if ``path`` cannot be (or become) a folder: it, or the first of
    its parents that exists, is a file. Lets a command refuse a bad ``-o`` before doing any work."""
    path = Path(path)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise OutputWriteError(f"{folder}: exists and is not a folder")
            break
    return path


def _not_a_folder(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise OutputWriteError(f"{path}: is a folder, expected a file name")
    return path


def check_output_file(path: str | Path) -> Path:
    """Raise ``OutputWriteError`` now if ``path`` cannot be written as a file (it is a folder, or
    lies under a file)."""
    path = _not_a_folder(path)
    check_output_folder(path.parent)
    return path


def ensure_dir(path: str | Path) -> Path:
    """Create folder ``path`` (and parents); a one-line ``OutputWriteError`` if that is impossible."""
    path = check_output_folder(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(f"{path}: cannot create folder ({describe_os_error(exc)})") from None
    return path


def _publish(tmp: Path, path: Path, exclusive: bool) -> None:
    if not exclusive:
        os.replace(tmp, path)
        return
    exists = OutputExistsError(f"{path}: exists (created meanwhile by another process?); not replaced")
    try:
        os.link(tmp, path)  # fails with EEXIST if the name exists now, whoever created it
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise exists from None
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links: claim the name exclusively, then fill it atomically.
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            raise exists from None
        os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | Path, exclusive: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is moved to ``path`` in one step.

    ``exclusive``: never replace an existing ``path`` (checked at the moment of the move)."""
    path = _not_a_folder(path)
    ensure_dir(path.parent)  # checks the parents as check_output_file does, then creates them
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_MARK + path.suffix, dir=path.parent)
    except OSError as exc:
        raise OutputWriteError(f"{path}: cannot write ({describe_os_error(exc)})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        _publish(tmp, path, exclusive)
    except OSError as exc:
        raise OutputWriteError(f"{path}: cannot write ({describe_os_error(exc)})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes, exclusive: bool = False) -> None:
    with atomic_path(path, exclusive) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """UTF-8 text; file names that were not UTF-8 (held as surrogate escapes) keep their bytes."""
    atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete temporaries that a killed writer left in ``folder`` (and its sub-folders); returns them.
    Call it only on a folder this process owns (a run folder being resumed)."""
    folder = Path(folder)
    stale = [p for p in folder.rglob(f".*{_TEMP_MARK}*") if p.is_file()] if folder.is_dir() else []
    for path in stale:
        with contextlib.suppress(OSError):
            path.unlink()
    return stale
