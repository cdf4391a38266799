"""Edge loss of MPRNet / MemoryNet: Charbonnier distance between Laplacian band-pass images.

Lap(x) = x - G(U(D(G(x)))), with G a 5x5 separable Gaussian [.05 .25 .4 .25 .05] (replicate
padding), D keeping every second pixel and U inserting zeros (x4 to keep the energy).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .pixel import charbonnier


class EdgeLoss(nn.Module):
    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        taps = torch.tensor([0.05, 0.25, 0.4, 0.25, 0.05])
        self.register_buffer("kernel", torch.outer(taps, taps)[None, None], persistent=False)
        self.eps = eps

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        x = F.pad(x, (2, 2, 2, 2), mode="replicate")
        return F.conv2d(x, self.kernel.to(x.dtype).expand(channels, 1, 5, 5), groups=channels)

    def laplacian(self, x: torch.Tensor) -> torch.Tensor:
        blurred = self._blur(x)
        upsampled = torch.zeros_like(blurred)
        upsampled[..., ::2, ::2] = blurred[..., ::2, ::2] * 4
        return x - self._blur(upsampled)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        return charbonnier(self.laplacian(pred), self.laplacian(target), self.eps)
