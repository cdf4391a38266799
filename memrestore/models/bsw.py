"""Background selective whitening (BSW), MGID's loss (Cho et al., TIP 2022), built after RobustNet's
instance selective whitening (ISW; Choi et al., CVPR 2021, Sec. 3.3).

ISW instance-normalises a feature map, takes its channel covariance, and penalises only the entries
that are sensitive to photometric style (their variance across augmented views of one image falls in
the highest of three k-means clusters), so style leaves the features while content stays. No MGID
code is public; memrestore transplants the selection to time-lapse data, where the "views" are the
frames of one static scene, which share the background and differ in rain:

* covariance: for each image, features are instance-normalised per channel (zero mean, unit
  variance over pixels) and Sigma = F F^T / HW (C x C; its diagonal is 1);
* selection: an entry (i, j), i < j, carries *background* when it differs between scenes but not
  between frames of one scene: r_ij = Var_scenes(mean over frames of Sigma_ij) /
  (mean over scenes of Var_frames(Sigma_ij) + 1e-6). r is averaged over the first ``warmup``
  training batches that hold at least two scenes of at least two frames each; then the mask keeps
  the top ``fraction`` of the strictly upper-triangular entries by r (1/3: ISW's "high" cluster of
  three, without k-means) and is frozen (a buffer, saved with the checkpoint);
* loss: mean over images of sum |Sigma (.) mask| / |mask|. It is zero for whitened features
  (Sigma = I) and positive otherwise; before the mask exists it is zero.

Applied to the memory queries, it keeps background out of what the memory addresses, so the memory
holds rain (the paper's stated purpose of BSW).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def instance_covariance(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) covariance of the instance-normalised features."""
    b, c, h, w = features.shape
    flat = features.float().reshape(b, c, h * w)
    flat = (flat - flat.mean(dim=2, keepdim=True)) / (flat.var(dim=2, unbiased=False, keepdim=True) + eps).sqrt()
    return flat @ flat.transpose(1, 2) / (h * w)


def whitening_loss(covariance: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the mean |Sigma_ij| over the selected entries."""
    selected = mask.to(covariance.dtype)
    return ((covariance.abs() * selected).sum(dim=(1, 2)) / selected.sum().clamp_min(1)).mean()


def background_ratio(covariance: torch.Tensor, groups: torch.Tensor) -> Optional[torch.Tensor]:
    """(C, C) ratio of across-scene to within-scene variance of each covariance entry, or None
    when the batch lacks two scenes of two frames each."""
    scenes = [covariance[groups == g] for g in torch.unique(groups)]
    scenes = [s for s in scenes if s.shape[0] >= 2]
    if len(scenes) < 2:
        return None
    means = torch.stack([s.mean(dim=0) for s in scenes])
    within = torch.stack([s.var(dim=0, unbiased=False) for s in scenes]).mean(dim=0)
    return means.var(dim=0, unbiased=False) / (within + 1e-6)


class BackgroundSelectiveWhitening(nn.Module):
    """The BSW loss with its selection mask, estimated during the first ``warmup`` usable batches."""

    def __init__(self, channels: int, warmup: int = 50, fraction: float = 1 / 3) -> None:
        super().__init__()
        self.warmup, self.fraction = warmup, fraction
        self.register_buffer("ratio_sum", torch.zeros(channels, channels))
        self.register_buffer("batches", torch.zeros((), dtype=torch.long))
        self.register_buffer("mask", torch.zeros(channels, channels, dtype=torch.bool))

    @property
    def ready(self) -> bool:
        return bool(self.batches >= self.warmup)

    @torch.no_grad()
    def observe(self, covariance: torch.Tensor, groups: torch.Tensor) -> None:
        """Accumulate the background ratio of one batch; build the mask once warm-up is over."""
        ratio = background_ratio(covariance, groups)
        if ratio is None or self.ready:
            return
        self.ratio_sum += ratio
        self.batches += 1
        if self.ready:
            upper = torch.triu(torch.ones_like(self.mask), diagonal=1)
            mean_ratio = self.ratio_sum / self.batches
            threshold = torch.quantile(mean_ratio[upper], 1.0 - self.fraction)
            self.mask.copy_(upper & (mean_ratio >= threshold))

    def forward(self, features: torch.Tensor, groups: Optional[torch.Tensor]) -> torch.Tensor:
        covariance = instance_covariance(features)
        if groups is not None and not self.ready:
            self.observe(covariance.detach(), groups)
        if not self.ready:
            return features.new_zeros(())
        return whitening_loss(covariance, self.mask)
