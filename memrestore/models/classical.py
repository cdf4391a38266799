"""Classical (learning-free) baselines, usable wherever a model is: ``restore``, ``eval`` pipelines and
``memrestore bench`` suites (as methods with ``train: false``).

``dark_channel_prior``: He, Sun, Tang, "Single Image Haze Removal Using Dark Channel Prior" (CVPR
2009 / TPAMI 2011). Dark channel = minimum over colour channels and a 15x15 patch; atmospheric light
A = mean colour of the 0.1 % pixels with the brightest dark channel; transmission
t = 1 - omega * dark(I / A) with omega = 0.95, refined by the guided filter (He et al., ECCV 2010;
radius 60, eps 1e-3, guided by the grey image) as in the TPAMI version; J = (I - A) / max(t, t0) + A
with t0 = 0.1. The guided filter's box means use cumulative sums, so the cost does not grow with the
radius.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .interface import RestorationModel


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)^2 window around each pixel, the window clipped at the borders."""
    def along(t: torch.Tensor, dim: int) -> torch.Tensor:
        size = t.shape[dim]
        padded = torch.cat([torch.zeros_like(t.narrow(dim, 0, 1)), t.cumsum(dim)], dim)
        index = torch.arange(size, device=t.device)
        high = (index + radius + 1).clamp(max=size)
        low = (index - radius).clamp(min=0)
        shape = [1] * t.dim()
        shape[dim] = size
        total = padded.index_select(dim, high) - padded.index_select(dim, low)
        return total / (high - low).view(shape).to(t.dtype)

    return along(along(x, -2), -1)


def guided_filter(guide: torch.Tensor, source: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """Edge-preserving smoothing of ``source`` following the grey ``guide`` (N x 1 x H x W each)."""
    mean_g, mean_s = box_mean(guide, radius), box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - mean_g * mean_s
    variance = box_mean(guide * guide, radius) - mean_g * mean_g
    a = covariance / (variance + eps)
    b = mean_s - a * mean_g
    return box_mean(a, radius) * guide + box_mean(b, radius)


class DarkChannelPrior(RestorationModel):
    """He et al.'s dehazing; no learned parameters."""

    def __init__(self, patch: int = 15, omega: float = 0.95, t0: float = 0.1, radius: int = 60, eps: float = 1e-3,
                 top: float = 0.001) -> None:
        super().__init__()
        self.patch, self.omega, self.t0, self.radius, self.eps, self.top = patch, omega, t0, radius, eps, top
        self.register_buffer("grey", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1), persistent=False)

    def dark_channel(self, x: torch.Tensor) -> torch.Tensor:
        darkest = x.amin(dim=1, keepdim=True)
        half = self.patch // 2
        return -F.max_pool2d(F.pad(-darkest, (half, half, half, half), mode="replicate"), self.patch, stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        dark = self.dark_channel(x).flatten(1)
        count = max(1, int(dark.shape[1] * self.top))
        brightest = dark.topk(count, dim=1).indices
        airlight = torch.stack([x[i].flatten(1)[:, brightest[i]].mean(dim=1) for i in range(n)]).view(n, 3, 1, 1)
        airlight = airlight.clamp(min=1e-3)
        transmission = 1.0 - self.omega * self.dark_channel(x / airlight)
        transmission = guided_filter((x * self.grey).sum(1, keepdim=True), transmission, self.radius, self.eps)
        return ((x - airlight) / transmission.clamp(min=self.t0) + airlight).clamp(0.0, 1.0)
