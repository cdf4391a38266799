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

from .bsw import BackgroundSelectiveWhitening
from .memory import ItemMemory
from .unet import UNet


class MGIDNet(UNet):
    """Residual U-Net with an MNAD item memory at the bottleneck (``memory_items=0``: the plain U-Net
    with the same widths, the ablation's no-memory arm) and optional BSW on the memory queries: the
    ``items`` attachment of ``attachments.py`` at the ``bottleneck`` place."""

    def __init__(
        self, width: int = 24, depths: list[int] | None = None, middle: int = 2, in_channels: int = 3,
        memory_items: int = 10, memory_seed: int = 0, memory_init: str = "random", memory_restart: int = 0,
        compactness: float = 0.1, separateness: float = 0.1, bsw: float = 0.0, bsw_warmup: int = 50,
        bsw_fraction: float = 1 / 3,
    ) -> None:
        memory = {"kind": "items", "items": memory_items, "seed": memory_seed, "init": memory_init,
                  "restart": memory_restart, "compactness": compactness, "separateness": separateness, "bsw": bsw, "bsw_warmup": bsw_warmup,
                  "bsw_fraction": bsw_fraction}
        super().__init__(width, depths, middle, in_channels, memories={"bottleneck": memory})

    @property
    def memory(self) -> Optional[ItemMemory]:
        """The item bank (None without items)."""
        return self.attachments["bottleneck"].memory

    @property
    def bsw(self) -> Optional[BackgroundSelectiveWhitening]:
        """The BSW loss module with its selection mask (None when ``bsw`` is 0)."""
        return self.attachments["bottleneck"].bsw
