"""Model checkpoints: safetensors weights with the run's config embedded, plus a readable JSON.

``NAME.safetensors`` holds the weights and, in its header metadata, the full validated config (so a
checkpoint alone rebuilds its model) and any metrics; ``NAME.json`` beside it repeats config and
metrics for people and tools. Loading never unpickles anything, so a checkpoint from an untrusted
source cannot run code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .config import Config
from .errors import CheckpointError, MemrestoreError
from .io.atomic import atomic_path, atomic_write_text
from .recipes import checkpoint_config

FORMAT = "memrestore-checkpoint-1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights, the config that built them, and recorded metrics.
    ``unreadable``: config sections this version could not read (kept at their defaults)."""

    state_dict: dict[str, torch.Tensor]
    config: Config
    metadata: dict[str, Any] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)


def save_checkpoint(path: str | Path, model: nn.Module, config: Config, **metadata: Any) -> Path:
    """Write ``path`` (.safetensors) and its JSON sidecar atomically; returns the weights path."""
    path = Path(path).with_suffix(".safetensors")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    header = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "metadata": json.dumps(metadata, default=str),
    }
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=header)
    sidecar = {"format": FORMAT, "config": config.to_dict(), **metadata}
    atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=2, default=str) + "\n")
    return path


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read weights and config; raises ``CheckpointError`` naming the file on any problem."""
    path = Path(path)
    if path.is_dir():
        for name in ("model.safetensors", "best.safetensors", "last.safetensors"):
            if (path / name).is_file():
                path = path / name
                break
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if path.suffix != ".safetensors":
        raise CheckpointError(f"{path}: expected a .safetensors checkpoint (pickled .pth files are not loaded)")
    try:
        state = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a valid safetensors file ({exc})") from exc
    if header.get("format") != FORMAT or "config" not in header:
        raise CheckpointError(f"{path}: safetensors file has no memrestore config (not written by memrestore?)")
    try:
        config, unreadable = checkpoint_config(header["config"])
    except MemrestoreError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    try:
        metadata = json.loads(header.get("metadata", "{}"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: recorded metadata is not valid JSON ({exc.msg})") from None
    return Checkpoint(state_dict=state, config=config, metadata=metadata, unreadable=unreadable)


def load_weights(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str | Path) -> None:
    """Load weights strictly, turning a mismatch into a one-line ``CheckpointError``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [k for k in own if k in state_dict and own[k].shape != state_dict[k].shape]
    if missing or unexpected or wrong:
        detail = (missing and f"missing {missing[0]}") or (unexpected and f"unexpected {unexpected[0]}") or f"shape of {wrong[0]}"
        raise CheckpointError(
            f"{source}: weights do not match the architecture ({detail}; "
            f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} mis-shaped)"
        )
    model.load_state_dict(state_dict)


def read_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a memrestore checkpoint, a plain safetensors file, or a peer project's
    ``.pth`` (read with ``weights_only=True``; BasicSR-style ``params_ema`` / ``params`` wrappers unwrapped)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"{path}: not a valid safetensors file ({exc})") from exc
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot be read safely as weights ({str(exc).splitlines()[0]})") from exc
    for key in ("params_ema", "params", "state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: does not hold a state dict of tensors")
    return state


def load_initial_weights(model: nn.Module, path: str | Path) -> None:
    """Initialise ``model`` from a weights file for fine-tuning (``memrestore train --init``); a peer
    network's own keys are matched under memrestore's ``net.`` wrapper prefix when needed."""
    state = read_weights_file(path)
    own = model.state_dict()
    if not set(state) & set(own) and all(f"net.{k}" in own for k in state):
        state = {f"net.{k}": v for k, v in state.items()}
    load_weights(model, state, path)
