"""Running a restoration model on tensors: the single inference path used by the API, the CLI,
validation during training and the demo."""

from __future__ import annotations

import torch
from torch import nn

from .models import final_output


@torch.no_grad()
def run_model(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Restore an NCHW float batch in [0, 1] on the model's device; returns [0, 1] on x's device."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = final_output(model(x.to(device)))
    finally:
        model.train(was_training)
    return out.clamp_(0.0, 1.0).to(x.device)
