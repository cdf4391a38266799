"""Memories that attach to any backbone at a named place (see ``models/interface.py``).

An attachment maps the feature at its place (B, C, H, W) to a feature of the same shape: it reads a
memory with that feature and fuses the read-out back through a zero-initialised layer, so a network
with a fresh attachment computes exactly what its backbone computes, and the memory earns its way in.

* ``items``: MGID's memory (Cho et al., IEEE TIP 2022), i.e. MNAD's read and update (Park et al.,
  CVPR 2020, Sec. 3.2): K unit-norm items, cosine-softmax read, no-gradient update towards the
  queries that chose each item, compactness and separateness losses (0.1 / 0.1, MNAD's training
  script), read-out concatenated with the feature and fused by a 1x1 conv; optional BSW on the
  queries (``bsw.py``).
* ``hierarchical``: MemoryNet's part -> instance -> semantic memory (Zhang et al., arXiv 2309.01377,
  Sec. 3.2): a 3x3 conv embeds the feature into ``dim`` channels, the memory reads it, and the three
  levels' read-outs are projected back by a zero-initialised 1x1 conv and added (the "feature"
  placement of ``memorynet.py``, at any place of any backbone).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import zero_conv
from .bsw import BackgroundSelectiveWhitening
from .memory import (LEVELS, HierarchicalMemory, ItemMemory, MemoryReadout, compactness_loss,
                     hierarchical_regularisers, separateness_loss)


class MemoryAttachment(nn.Module):
    """Base class: ``forward(feature) -> feature``; the last read and the weighted extra losses."""

    def __init__(self) -> None:
        super().__init__()
        self.last_readout: Optional[MemoryReadout] = None
        self._aux: dict[str, torch.Tensor] = {}

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        return dict(self._aux)

    def set_batch_groups(self, groups: Optional[torch.Tensor]) -> None:
        """Scene index of every image of the next batch; only BSW uses it."""


class ItemAttachment(MemoryAttachment):
    """MGID / MNAD item memory; ``items=0`` keeps only BSW (the no-memory ablation arm)."""

    def __init__(self, channels: int, items: int = 10, seed: int = 0, init: str = "random", restart: int = 0,
                 compactness: float = 0.1, separateness: float = 0.1, bsw: float = 0.0, bsw_warmup: int = 50,
                 bsw_fraction: float = 1 / 3) -> None:
        super().__init__()
        self.memory = ItemMemory(items, channels, seed, init, restart) if items > 0 else None
        self.fuse = zero_conv(2 * channels, channels) if self.memory is not None else None
        self.bsw = BackgroundSelectiveWhitening(channels, bsw_warmup, bsw_fraction) if bsw > 0 else None
        self.weights = {"compactness": compactness, "separateness": separateness, "bsw": bsw}
        self.groups: Optional[torch.Tensor] = None

    def set_batch_groups(self, groups: Optional[torch.Tensor]) -> None:
        self.groups = groups

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
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
            if self.weights["compactness"] > 0:
                self._aux["compactness"] = self.weights["compactness"] * compactness_loss(queries, items)
            if self.weights["separateness"] > 0 and items.shape[0] > 1:
                self._aux["separateness"] = self.weights["separateness"] * separateness_loss(queries, items)
            self.memory.update(queries)
        return feature + self.fuse(torch.cat([feature, self.last_readout.readouts["items"]], dim=1))


class HierarchicalAttachment(MemoryAttachment):
    """MemoryNet's hierarchical memory read from an embedding of the feature, added back."""

    def __init__(self, channels: int, dim: int = 16, classes: int = 10, prototypes: int = 2, parts: int = 5,
                 shrink: float = 0.0025, similarity: str = "dot", entropy: float = 0.0, compactness: float = 0.0,
                 separateness: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Conv2d(channels, dim, 3, padding=1)
        self.memory = HierarchicalMemory(dim, classes, prototypes, parts, shrink, similarity)
        self.project = zero_conv(len(LEVELS) * dim, channels)
        self.weights = {"entropy": entropy, "compact": compactness, "separate": separateness}

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        readout = self.last_readout = self.memory(self.embed(feature))
        if self.training:
            self._aux = hierarchical_regularisers(readout, self.memory.items, self.weights)
        return feature + self.project(torch.cat([readout.readouts[level] for level in LEVELS], dim=1))


ATTACHMENTS: dict[str, type[MemoryAttachment]] = {"items": ItemAttachment, "hierarchical": HierarchicalAttachment}


def build_attachment(spec: Any, channels: int, where: str) -> MemoryAttachment:
    """An attachment from ``{kind: items | hierarchical, ...options}``, options checked by name and type."""
    from ..config import check_options
    from ..errors import ConfigError

    if not isinstance(spec, dict) or spec.get("kind") not in ATTACHMENTS:
        raise ConfigError(f"{where}: expected a mapping with kind: {' | '.join(ATTACHMENTS)}, got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "kind"}
    if "channels" in options:
        raise ConfigError(f"{where}: channels is set by the place the memory attaches to; remove it")
    cls = ATTACHMENTS[spec["kind"]]
    return cls(channels, **check_options(cls, options, where))
