"""Contrastive losses of MemoryNet (arXiv 2309.01377, Sec. 3.3): restored output = anchor, clean
target = positive, degraded input = negative.

* ``ContrastiveLoss`` (``contrastive``): the contrastive-regularisation form of AECR-Net (Wu et al.,
  CVPR 2021) that MemoryNet builds on:  sum_l w_l * D(phi_l(a), phi_l(p)) / (D(phi_l(a), phi_l(n)) + eps)
  with D the mean absolute difference, over the layers of a feature space phi (``features.py``;
  weights 1/32, 1/16, 1/8, 1/4, 1 from shallow to deep; with VGG, AECR-Net's relu1_1 ... relu5_1,
  read from VGG19 as published or from VGG16, the ImageNet VGG available offline here, by ``layers``).
  Optional extra negatives: the other degraded inputs of the batch (``negatives: [input, batch]``);
  several negatives are averaged in the denominator.
* ``GlobalContrastiveLoss`` (``contrastive_global``): our reading of the paper's global-anchor view, a
  3-way classification (positive / restored / negative): the anchor is the global (pooled) deep feature
  of the restored image; candidates are the global features of the clean target (positive), of the
  degraded input and of the other images in the batch (negatives); InfoNCE with cosine similarity and
  temperature ``tau`` pulls the anchor to its own clean image and away from rain and other scenes.

The ratio's ``eps`` defaults to 0.01, not AECR-Net's 1e-7: a residual network starts with its output
almost equal to its input, i.e. the anchor on top of the negative, and a tiny eps then makes the
loss and its gradients explode in the first steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .features import AECR_LAYERS, build_feature_extractor

DEFAULT_LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


class ContrastiveLoss(nn.Module):
    def __init__(self, features: str = "random", weights: str | None = None,
                 layer_weights: list[float] | None = None, negatives: list[str] | None = None, eps: float = 0.01,
                 layers: list[str] | None = None) -> None:
        super().__init__()
        self.phi = build_feature_extractor(features, weights, layers=layers or AECR_LAYERS)
        self.layer_weights = list(layer_weights or DEFAULT_LAYER_WEIGHTS)
        if len(self.layer_weights) != len(self.phi.slices):
            raise ConfigError(f"layer_weights has {len(self.layer_weights)} entries but {features} features "
                              f"have {len(self.phi.slices)} layers")
        self.negatives = list(negatives or ["input"])
        unknown = set(self.negatives) - {"input", "batch"}
        if unknown:
            raise ConfigError(f"unknown contrastive negatives {sorted(unknown)} (input, batch)")
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        if degraded is None:
            raise ValueError("the contrastive loss needs the degraded input as negative")
        negatives = []
        if "input" in self.negatives:
            negatives.append(degraded)
        if "batch" in self.negatives and degraded.shape[0] > 1:
            negatives.append(degraded.roll(1, dims=0))
        anchor = self.phi(pred)
        with torch.no_grad():  # positive and negatives in one batched pass
            levels = [level.split(pred.shape[0]) for level in self.phi(torch.cat([target, *negatives]))]
        loss = torch.zeros((), device=pred.device)
        for l, weight in enumerate(self.layer_weights):
            d_pos = (anchor[l] - levels[l][0]).abs().mean()
            d_neg = torch.stack([(anchor[l] - n).abs().mean() for n in levels[l][1:]]).mean()
            loss = loss + weight * d_pos / (d_neg + self.eps)
        return loss


class GlobalContrastiveLoss(nn.Module):
    def __init__(self, features: str = "random", weights: str | None = None, tau: float = 0.1) -> None:
        super().__init__()
        self.phi = build_feature_extractor(features, weights, layers=AECR_LAYERS)
        self.tau = tau

    def _global(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.phi(x)[-1].mean(dim=(2, 3)), dim=1)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, degraded: torch.Tensor | None = None) -> torch.Tensor:
        if degraded is None:
            raise ValueError("the contrastive loss needs the degraded input as negative")
        anchor = self._global(pred)
        with torch.no_grad():
            clean, rainy = self._global(target), self._global(degraded)
        # Candidate 0 of row i is its own clean image; then every degraded input, then other clean images.
        batch = pred.shape[0]
        others = clean[None].expand(batch, -1, -1)[~torch.eye(batch, dtype=torch.bool, device=pred.device)].view(batch, batch - 1, -1)
        candidates = torch.cat([clean[:, None], rainy[None].expand(batch, -1, -1), others], dim=1)
        logits = torch.einsum("bc,bkc->bk", anchor, candidates) / self.tau
        return F.cross_entropy(logits, torch.zeros(batch, dtype=torch.long, device=pred.device))
