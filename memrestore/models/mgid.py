"""MGID: memory-guided image deraining (Cho, Kim, Sohn, IEEE TIP 2022, arXiv 2201.01883).

An encoder-decoder (memrestore's residual U-Net) whose bottleneck features are queries to a memory
of K items of dimension C, read and updated as in MNAD (Park et al., "Learning Memory-guided
Normality", CVPR 2020, Sec. 3.2), the memory module MGID builds on:

* read: queries and items are L2-normalised; each query's weights are a softmax over its cosine
  similarities to the K items; the read-out (weighted sum of items) is concatenated with the query
  feature and fused back (1x1 conv, residual) before decoding;
* update (training only, no gradient): every item moves towards the queries whose nearest item it is,
  weighted by their matching scores normalised over the queries (softmax over queries, divided by its
  maximum, MNAD eq. 4-5), then is re-normalised to unit length. Items are a buffer: saved with the
  checkpoint, fixed at inference, and the update is deterministic (no sampling);
* compactness (query to nearest item) and separateness (triplet: nearest vs second nearest, margin 1)
  losses, weights 0.1 / 0.1 as in MNAD's published training script.

BSW (background selective whitening, ``bsw.py``) is applied to the same query features, so that the
memory addresses rain rather than scene content. It needs to know which images of a batch show the
same scene: the trainer passes that through ``set_batch_groups`` for time-lapse batches.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .bsw import BackgroundSelectiveWhitening
from .memory import MemoryReadout, compactness_loss, separateness_loss
from .unet import UNet


class ItemMemory(nn.Module):
    """K unit-norm items of dimension C with MNAD's read and update. ``init``: ``random`` (MNAD:
    Gaussian, normalised) or ``queries`` (the first training batch's queries at K seeded positions,
    so every item starts where some features are: a remedy for all queries choosing one item)."""

    def __init__(self, items: int, dim: int, seed: int = 0, init: str = "random") -> None:
        super().__init__()
        if init not in ("random", "queries"):
            raise ValueError(f"memory init must be random or queries, got {init!r}")
        self.seed = seed
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("items", F.normalize(torch.randn(items, dim, generator=generator), dim=1))
        self.register_buffer("initialised", torch.tensor(init == "random"))

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
        """Move each item towards the queries that chose it (MNAD eq. 4-5), then re-normalise."""
        queries = queries.detach().float()
        scores = queries @ self.items.t()  # (N, K)
        nearest = scores.argmax(dim=1)
        over_queries = torch.softmax(scores, dim=0)
        over_queries = over_queries / over_queries.max(dim=0, keepdim=True).values.clamp_min(1e-12)
        chosen = F.one_hot(nearest, self.items.shape[0]).to(queries.dtype)  # (N, K): query t chose item k
        shift = (over_queries * chosen).t() @ queries  # (K, C)
        self.items.copy_(F.normalize(self.items + shift, dim=1))


class MGIDNet(UNet):
    """Residual U-Net with an MNAD memory at the bottleneck (``memory_items=0``: the plain U-Net
    with the same widths, the ablation's no-memory arm) and optional BSW on the memory queries."""

    def __init__(
        self, width: int = 24, depths: list[int] | None = None, middle: int = 2, in_channels: int = 3,
        memory_items: int = 10, memory_seed: int = 0, memory_init: str = "random", compactness: float = 0.1,
        separateness: float = 0.1, bsw: float = 0.0, bsw_warmup: int = 50, bsw_fraction: float = 1 / 3,
    ) -> None:
        super().__init__(width, depths, middle, in_channels)
        channels = width * 2 ** len(self.encoders)
        self.memory = ItemMemory(memory_items, channels, memory_seed, memory_init) if memory_items > 0 else None
        self.fuse = nn.Conv2d(2 * channels, channels, 1) if self.memory is not None else None
        if self.fuse is not None:
            nn.init.zeros_(self.fuse.weight)  # start as the plain U-Net, let the memory earn its way in
            nn.init.zeros_(self.fuse.bias)
        self.bsw = BackgroundSelectiveWhitening(channels, bsw_warmup, bsw_fraction) if bsw > 0 else None
        self.weights = {"compactness": compactness, "separateness": separateness, "bsw": bsw}
        self.groups: Optional[torch.Tensor] = None
        self.last_readout: Optional[MemoryReadout] = None
        self._aux: dict[str, torch.Tensor] = {}

    def set_batch_groups(self, groups: Optional[torch.Tensor]) -> None:
        """Scene index of every image of the next batch (None: unrelated images)."""
        self.groups = groups

    def bottleneck(self, feature: torch.Tensor) -> torch.Tensor:
        self._aux = {}
        if self.bsw is not None and self.training:
            self._aux["bsw"] = self.weights["bsw"] * self.bsw(feature, self.groups)
        if self.memory is None:
            return feature
        b, c, h, w = feature.shape
        queries = F.normalize(feature.permute(0, 2, 3, 1).reshape(-1, c), dim=1)
        if self.training:
            self.memory.initialise_from(queries)
        readout, weights = self.memory.read(queries)
        self.last_readout = MemoryReadout(
            readouts={"items": readout.view(b, h, w, c).permute(0, 3, 1, 2)},
            weights={"items": weights.view(b, h, w, -1).detach()},
            queries=queries.detach(),
        )
        if self.training:
            items = self.memory.items.clone()
            self._aux["compactness"] = self.weights["compactness"] * compactness_loss(queries, items)
            if items.shape[0] > 1:
                self._aux["separateness"] = self.weights["separateness"] * separateness_loss(queries, items)
            self.memory.update(queries)
        return feature + self.fuse(torch.cat([feature, self.last_readout.readouts["items"]], dim=1))

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        """Weighted memory losses of the last training forward pass (zero weights are left out)."""
        return {name: value for name, value in self._aux.items() if self.weights[name] > 0}
