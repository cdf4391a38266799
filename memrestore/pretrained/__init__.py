"""The packaged default models, one per task, so that ``memrestore restore photo.jpg --task derain``
and ``memrestore.load("derain")`` work offline without training.

Each default is ``<task>.safetensors`` (a memrestore checkpoint: weights plus the config that built
them) beside its model card ``<task>.json`` (architecture, training data, recipe and command, steps
and time, metrics on real sets with their conventions, known limits) and ``<task>.md``. They live in
this folder, shipped inside the wheel; ``MEMRESTORE_MODELS`` points to another folder of the same
layout (a lab's own model zoo).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MemrestoreError

TASKS = ("derain", "raindrop", "deshadow", "deblur", "dehaze", "timelapse")
FOLDER = Path(__file__).parent


@dataclass
class ModelCard:
    """What a packaged model is and how good it is (the JSON card, read as is)."""

    task: str
    checkpoint: Path
    summary: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def models_folder() -> Path:
    return Path(os.environ.get("MEMRESTORE_MODELS") or FOLDER)


def model_cards() -> dict[str, ModelCard]:
    """Task -> card of every packaged default that has both its weights and its card."""
    folder = models_folder()
    cards = {}
    for task in TASKS:
        card, weights = folder / f"{task}.json", folder / f"{task}.safetensors"
        if card.is_file() and weights.is_file():
            try:
                data = json.loads(card.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise MemrestoreError(f"{card}: unreadable model card ({exc})") from None
            cards[task] = ModelCard(task, weights, str(data.get("summary", "")), dict(data.get("metrics", {})), data)
    return cards


def default_checkpoint(task: str) -> Path:
    """The packaged checkpoint for ``task``; a one-line error naming what exists otherwise."""
    if task not in TASKS:
        raise MemrestoreError(f"unknown task {task!r} (tasks: {', '.join(TASKS)})")
    cards = model_cards()
    if task not in cards:
        have = ", ".join(cards) or "none yet"
        raise MemrestoreError(f"no packaged model for task {task!r} in {models_folder()} (packaged: {have}); "
                              "restore with --checkpoint, or train one: memrestore configs")
    return cards[task].checkpoint
