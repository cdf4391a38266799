"""Hierarchical memory augment of MemoryNet (Zhang, Gu, Zhu, arXiv 2309.01377, Sec. 3.2; released
code zhangbaijin/MemoryNet, as summarised in ../shared/seeds/METHODS.md).

A learnable bank of M = classes x prototypes x parts items of dimension C is read bottom-up:

* part level: every query vector addresses the M part items, ``w = softmax(sim(q, items))``;
  hard shrinkage ``relu(w - lambda) * w / (|w - lambda| + eps)`` (MemAE, Gong et al. ICCV 2019) keeps
  only the few items that matter, then the weights are L1 re-normalised; read-out = w . items;
* instance level: the part items, seen as (classes*prototypes, parts, C), are re-weighted by a sigmoid
  gate (a 1x1 Conv1d over the part axis) and averaged over parts into instance prototypes, which the
  part read-out addresses in the same way;
* semantic level: instance prototypes, seen as (classes, prototypes, C), are gated and averaged over
  prototypes into semantic prototypes, addressed by the instance read-out.

Each level's read-out and addressing weights are returned, so they can be fed to the network,
visualised (``memrestore inspect memory``) and regularised (entropy, MNAD compactness/separateness).
With the released sizes (10 x 2 x 5 items of C = 3) the module has exactly 336 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = ("part", "instance", "semantic")


@dataclass
class MemoryReadout:
    """Read-outs (B, C, H, W) and addressing weights (B, H, W, K) per level, plus the queries."""

    readouts: dict[str, torch.Tensor]
    weights: dict[str, torch.Tensor]
    queries: torch.Tensor  # (N, C) flattened query vectors


def hard_shrink_normalise(weights: torch.Tensor, threshold: float, eps: float = 1e-12) -> torch.Tensor:
    """MemAE's differentiable hard shrinkage followed by L1 re-normalisation (rows sum to 1)."""
    if threshold > 0:
        shifted = weights - threshold
        weights = F.relu(shifted) * weights / (shifted.abs() + eps)
    return weights / weights.sum(dim=-1, keepdim=True).clamp_min(eps)


class HierarchicalMemory(nn.Module):
    """Part -> instance -> semantic prototype memory; see the module docstring."""

    def __init__(
        self,
        dim: int,
        classes: int = 10,
        prototypes: int = 2,
        parts: int = 5,
        shrink: float = 0.0025,
        similarity: str = "dot",
        temperature: float = 1.0,
    ) -> None:
        super().__init__()
        if similarity not in ("dot", "cosine"):
            raise ValueError(f"similarity must be 'dot' or 'cosine', got {similarity!r}")
        self.classes, self.prototypes, self.parts = classes, prototypes, parts
        self.shrink, self.similarity, self.temperature = shrink, similarity, temperature
        self.items = nn.Parameter(torch.rand(classes * prototypes * parts, dim) / dim**0.5)
        self.part_gate = nn.Conv1d(parts, parts, 1)
        self.prototype_gate = nn.Conv1d(prototypes, prototypes, 1)

    @property
    def sizes(self) -> dict[str, int]:
        return {"part": self.items.shape[0], "instance": self.classes * self.prototypes, "semantic": self.classes}

    def address(self, queries: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Addressing weights (N, K) of queries (N, C) over items (K, C); rows sum to 1."""
        if self.similarity == "cosine":
            scores = F.normalize(queries, dim=-1) @ F.normalize(items, dim=-1).t()
        else:
            scores = queries @ items.t()
        return hard_shrink_normalise(torch.softmax(scores / self.temperature, dim=-1), self.shrink)

    def prototypes_by_level(self) -> dict[str, torch.Tensor]:
        parts = self.items.view(self.classes * self.prototypes, self.parts, -1)
        instances = (torch.sigmoid(self.part_gate(parts)) * parts).mean(dim=1)
        grouped = instances.view(self.classes, self.prototypes, -1)
        semantics = (torch.sigmoid(self.prototype_gate(grouped)) * grouped).mean(dim=1)
        return {"part": self.items, "instance": instances, "semantic": semantics}

    def forward(self, x: torch.Tensor) -> MemoryReadout:
        b, c, h, w = x.shape
        query = x.permute(0, 2, 3, 1).reshape(-1, c)
        readouts, weights = {}, {}
        for level, items in self.prototypes_by_level().items():
            level_weights = self.address(query, items)
            read = level_weights @ items
            readouts[level] = read.view(b, h, w, c).permute(0, 3, 1, 2)
            weights[level] = level_weights.view(b, h, w, -1)
            query = read  # the next level is addressed by this level's read-out
        return MemoryReadout(readouts, weights, x.permute(0, 2, 3, 1).reshape(-1, c))


def addressing_entropy(weights: torch.Tensor) -> torch.Tensor:
    """Mean entropy of addressing rows (lower = sparser, more decisive addressing)."""
    return -(weights * weights.clamp_min(1e-12).log()).sum(dim=-1).mean()


def compactness_loss(queries: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """MNAD feature compactness: mean squared distance of each query to its nearest item."""
    nearest = (queries @ items.t()).argmax(dim=-1)
    return F.mse_loss(queries, items[nearest])


def separateness_loss(queries: torch.Tensor, items: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """MNAD feature separateness: triplet margin between the nearest and second-nearest item."""
    top2 = (queries @ items.t()).topk(2, dim=-1).indices
    return F.triplet_margin_loss(queries, items[top2[:, 0]], items[top2[:, 1]], margin=margin)
