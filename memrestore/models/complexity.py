"""Model size and cost: parameters and multiply-accumulates (MACs).

Counting convention (that of ptflops/thop-style tables such as MPRNet's): one MAC per weight use in
Conv2d, ConvTranspose2d and Linear layers (bias, activations, normalisation, pooling and element-wise
operations are not counted); parameters are all trainable tensors. Measured by running the model
once on a 3 x H x W input with forward hooks.
"""

from __future__ import annotations

import torch
from torch import nn

from ..tensors import eval_mode, model_device


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def count_macs(model: nn.Module, height: int = 256, width: int = 256, channels: int = 3) -> int:
    """MACs of one forward pass on a 1 x ``channels`` x ``height`` x ``width`` input."""
    total = [0]

    def conv_hook(module: nn.Conv2d | nn.ConvTranspose2d, inputs, output) -> None:
        kernel = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            total[0] += inputs[0].numel() * (module.out_channels // module.groups) * kernel
        else:
            total[0] += output.numel() * (module.in_channels // module.groups) * kernel

    def linear_hook(module: nn.Linear, inputs, output) -> None:
        total[0] += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    device = model_device(model)
    try:
        with eval_mode(model):
            model(torch.zeros(1, channels, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return total[0]
