"""Run logging: a JSON-lines file (always, on rank 0) and TensorBoard (optional)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputWriteError
from ..io.atomic import atomic_write_text, describe_os_error


def _record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None  # a line torn by a kill in mid-append
    return record if isinstance(record, dict) else None


def truncate_log(path: Path, last_step: int, validated: bool = True) -> None:
    """Keep only the records of the state being resumed: those up to ``last_step`` (its validation
    row only if that validation completed, ``validated``), without the run summary (it is written
    again when the resumed run ends) and without a line torn by a kill."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = _record(line)
        if record is None or "summary" in record:
            continue
        step = record.get("step", 0)
        if step < last_step or (step == last_step and (validated or "val_psnr" not in record)):
            kept.append(line)
    atomic_write_text(path, "".join(line + "\n" for line in kept))


class RunLogger:
    """Writes scalars to ``log.jsonl`` and, when enabled, to TensorBoard under ``tb/``."""

    def __init__(self, run_dir: Path, enabled: bool, tensorboard: bool) -> None:
        self.path = run_dir / "log.jsonl"
        self.enabled = enabled
        self.writer = None
        if enabled and tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # availability checked by parts.check_runtime
            self.writer = SummaryWriter(str(run_dir / "tb"))

    def scalars(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise OutputWriteError(f"{self.path}: cannot write ({describe_os_error(exc)})") from None
        if self.writer is not None and "step" in record:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, record["step"])

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        if self.enabled and self.writer is not None:
            self.writer.add_image(tag, image, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
