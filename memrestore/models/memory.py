"""The memory banks: MemoryNet's hierarchical memory and MGID's item memory, with their losses.

``HierarchicalMemory``: the hierarchical memory augment of MemoryNet (Zhang, Gu, Zhu, arXiv
2309.01377, Sec. 3.2; released code zhangbaijin/MemoryNet).

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

``ItemMemory``: K unit-norm items with MNAD's read and update (Park, Noh, Ham, "Learning
Memory-guided Normality for Anomaly Detection", CVPR 2020, Sec. 3.2), the memory MGID builds on.
How either attaches to a network is ``attachments.py``.
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


def hierarchical_regularisers(readout: MemoryReadout, items: torch.Tensor, weights: dict[str, float]) -> dict[str, torch.Tensor]:
    """MemoryNet's optional memory regularisers, weighted, for the non-zero ``weights`` (``entropy``:
    part-level addressing entropy; ``compact`` / ``separate``: MNAD's losses on the queries)."""
    losses = {}
    if weights["entropy"]:
        losses["memory_entropy"] = weights["entropy"] * addressing_entropy(readout.weights["part"])
    if weights["compact"]:
        losses["memory_compact"] = weights["compact"] * compactness_loss(readout.queries, items)
    if weights["separate"]:
        losses["memory_separate"] = weights["separate"] * separateness_loss(readout.queries, items)
    return losses


class ItemMemory(nn.Module):
    """K unit-norm items of dimension C with MNAD's read and update. ``init``: ``random`` (MNAD:
    Gaussian, normalised) or ``queries`` (the first training batch's queries at K seeded positions,
    so every item starts where some features are: a remedy for all queries choosing one item).

    ``restart`` > 0 re-seeds an item that no query chose in ``restart`` consecutive updates at the
    query its nearest item serves worst (lowest best similarity), like the restarts of unused codebook
    vectors in vector quantisers (Dhariwal et al., Jukebox, 2020; Zeghidour et al., SoundStream, 2021): MNAD's
    update moves only chosen items, so once every query prefers one item the others never move again
    (the collapse measured in RESULTS.md). 0 is MNAD as published."""

    def __init__(self, items: int, dim: int, seed: int = 0, init: str = "random", restart: int = 0) -> None:
        super().__init__()
        if init not in ("random", "queries"):
            raise ValueError(f"memory init must be random or queries, got {init!r}")
        if restart < 0:
            raise ValueError(f"memory restart must be >= 0 updates, got {restart}")
        self.seed, self.restart = seed, restart
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("items", F.normalize(torch.randn(items, dim, generator=generator), dim=1))
        self.register_buffer("initialised", torch.tensor(init == "random"))
        if restart:  # only then: checkpoints of MNAD's memory keep their keys
            self.register_buffer("idle", torch.zeros(items, dtype=torch.long))

    @torch.no_grad()
    def initialise_from(self, queries: torch.Tensor) -> None:
        """Set the items to K distinct queries (seeded choice), once."""
        if bool(self.initialised):
            return
        generator = torch.Generator().manual_seed(self.seed)
        chosen = torch.randperm(queries.shape[0], generator=generator)[: self.items.shape[0]]
        if chosen.numel() == self.items.shape[0]:
            self.items.copy_(F.normalize(queries[chosen.to(queries.device)].detach().float(), dim=1))
            self.initialised.fill_(True)

    def read(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, C) unit queries -> (N, C) read-outs and (N, K) weights (rows sum to 1). Reads a copy of
        the items, as the in-place update after the read must not alter what autograd saved."""
        items = self.items.clone()
        weights = torch.softmax(queries @ items.t(), dim=1)
        return weights @ items, weights

    @torch.no_grad()
    def update(self, queries: torch.Tensor) -> None:
        """Move each item towards the queries that chose it (MNAD eq. 4-5), then re-normalise; with
        ``restart``, re-seed the items idle for that many updates."""
        queries = queries.detach().float()
        scores = queries @ self.items.t()  # (N, K)
        nearest = scores.argmax(dim=1)
        over_queries = torch.softmax(scores, dim=0)
        over_queries = over_queries / over_queries.max(dim=0, keepdim=True).values.clamp_min(1e-12)
        chosen = F.one_hot(nearest, self.items.shape[0]).to(queries.dtype)  # (N, K): query t chose item k
        shift = (over_queries * chosen).t() @ queries  # (K, C)
        self.items.copy_(F.normalize(self.items + shift, dim=1))
        if self.restart:
            self.idle.copy_(torch.where(chosen.sum(dim=0) > 0, 0, self.idle + 1))
            dead = (self.idle >= self.restart).nonzero().flatten()
            if dead.numel():
                worst = scores.max(dim=1).values.topk(min(dead.numel(), queries.shape[0]), largest=False).indices
                self.items[dead[: worst.numel()]] = queries[worst]
                self.idle[dead] = 0
