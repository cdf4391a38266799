"""Choosing a tile size from a RAM budget (``--max-memory``); not to be confused with the memory
banks of ``models/memory.py``.

Activation memory per pixel is estimated on a small probe by hooking every module and tracking the
module outputs that are alive at the same time (weak references tell when one is freed); the peak of
that total, times a safety factor for temporaries inside forward functions, scales with the number
of pixels. The budget also pays for the whole-image buffers that tiling keeps (input, output,
weights) and for what the process already holds.
"""

from __future__ import annotations

import math
import re
import weakref
from pathlib import Path

import torch

from ..errors import MemrestoreError
from ..tensors import eval_mode, model_device

SAFETY = 2.0
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "G": 1 << 30, "GB": 1 << 30}


def parse_bytes(text: str | int) -> int:
    """``"2GB"``, ``"512M"``, ``"1.5G"`` or an integer -> bytes (binary units)."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMG]?B?)\s*", text.upper())
    if not match:
        raise MemrestoreError(f"cannot read memory size {text!r} (examples: 2GB, 512MB)")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def current_rss() -> int:
    """Resident memory of this process now (Linux /proc; 0 where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@torch.no_grad()
def activation_bytes_per_pixel(model: torch.nn.Module, probe: int = 128) -> float:
    """Estimated peak inference activation bytes per input pixel (probe at ``probe`` x ``probe``)."""
    live = [0, 0]  # current, peak

    def release(size: int) -> None:
        live[0] -= size

    def hook(_module, _inputs, output):
        for tensor in output if isinstance(output, (list, tuple)) else [output]:
            if isinstance(tensor, torch.Tensor):
                size = tensor.numel() * tensor.element_size()
                live[0] += size
                live[1] = max(live[1], live[0])
                weakref.finalize(tensor, release, size)

    handles = [m.register_forward_hook(hook) for m in model.modules() if m is not model]
    try:
        device = model_device(model)
        x = torch.rand(1, 3, probe, probe, device=device)
        with eval_mode(model):
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return live[1] / (probe * probe)


def tile_for_budget(model: torch.nn.Module, height: int, width: int, budget: int, multiple: int, overlap: int) -> int:
    """Largest square tile (multiple of ``multiple``) whose activations fit in ``budget`` bytes."""
    per_pixel = activation_bytes_per_pixel(model) * SAFETY
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    whole_image = height * width * 4 * (3 * 3 + 1)  # float input, padded copy, output accumulator, weights
    available = budget - current_rss() - params - whole_image
    minimum = overlap + 4 * multiple
    if available < per_pixel * minimum * minimum:
        raise MemrestoreError(
            f"--max-memory {budget / 2**30:.2f} GiB is too small for a {width}x{height} image with this model "
            f"(needs at least {(current_rss() + params + whole_image + per_pixel * minimum**2) / 2**30:.2f} GiB)"
        )
    side = int(math.sqrt(available / per_pixel))
    return max(minimum, side // multiple * multiple)
