"""Small tensor helpers used across the package: image layout (HxWxC arrays <-> CxHxW tensors),
padding to a size multiple, a model's device, and running a model in eval mode."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def memory_format(channels_last: bool) -> torch.memory_format:
    """The layout of weights and inputs: channels-last (NHWC in memory) or PyTorch's default."""
    return torch.channels_last if channels_last else torch.contiguous_format


def hwc_to_chw(array: np.ndarray) -> torch.Tensor:
    """HxWxC float array -> contiguous CxHxW float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))


def chw_to_hwc(tensor: torch.Tensor) -> np.ndarray:
    """CxHxW tensor (any device) -> HxWxC float array."""
    return tensor.detach().cpu().numpy().transpose(1, 2, 0)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad H and W at the bottom/right up to a multiple (reflect, or replicate when too small)."""
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def model_device(model: nn.Module) -> torch.device:
    """Where a model's weights live (its buffers for a parameter-free model; CPU for neither)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode inside the block and restore its train/eval mode afterwards, also
    when the block raises."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
