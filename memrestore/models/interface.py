"""The one contract between a restoration network and the rest of memrestore.

Every architecture that ``build_model`` returns is a ``RestorationModel``. The trainer, inference,
export, ``info`` and ``inspect memory`` use only what is declared here, never ``getattr`` lookups:

* ``forward(x)``: NCHW float in [0, 1], any height and width (padding to ``size_multiple`` happens
  inside); returns the restoration, or a list of stage outputs whose last one is final.
* ``size_multiple``: the factor the model pads to (tiling and export align tiles to it).
* ``places``: where a memory may attach, each with its channel count, e.g. ``{"input": 32,
  "encoder1": 32, "bottleneck": 128}``. The backbone calls ``self.attach(place, feature)`` at each;
  ``memories`` (a constructor option, ``{place: {kind: items | hierarchical, ...options}}``) fills
  ``self.attachments`` with ``MemoryAttachment`` modules (``models/attachments.py``). A model that
  declares no places takes no memory.
* ``auxiliary_losses()``: already weighted extra loss terms of the last training forward pass (memory
  compactness/separateness, BSW, ...), which the trainer adds to the configured losses.
* ``set_batch_groups(groups)``: which images of the next batch show the same scene (time-lapse
  batches; ``None`` for unrelated images); BSW needs it.
* ``memory_readouts()``: the last read of every memory, by name, for ``inspect memory``.

The defaults collect these from the attachments, so a backbone only declares its places and calls
``attach``; models with memory wired in their own way (MemoryNet's three-stage injection) override
the methods.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from .memory import MemoryReadout


class RestorationModel(nn.Module):
    """Base class of every memrestore architecture; see the module docstring."""

    size_multiple: int = 1

    def __init__(self) -> None:
        super().__init__()
        self.places: dict[str, int] = {}
        self.attachments = nn.ModuleDict()

    def add_memories(self, memories: Optional[dict[str, dict[str, Any]]]) -> None:
        """Build the attachments asked for in ``memories`` at the declared ``places``."""
        from .attachments import build_attachment
        from ..errors import ConfigError

        for place, spec in (memories or {}).items():
            if place not in self.places:
                known = ", ".join(self.places) or "none"
                raise ConfigError(f"model memories: {type(self).__name__} has no place {place!r} (places: {known})")
            self.attachments[place] = build_attachment(spec, self.places[place], f"model memories.{place}")

    def attach(self, place: str, feature: torch.Tensor) -> torch.Tensor:
        """The feature at ``place`` after its memory (unchanged where none is attached)."""
        return self.attachments[place](feature) if place in self.attachments else feature

    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        """The attachments' terms; named ``PLACE_TERM`` when several memories are attached."""
        losses: dict[str, torch.Tensor] = {}
        several = len(self.attachments) > 1
        for place, attachment in self.attachments.items():
            losses.update({f"{place}_{name}" if several else name: value
                           for name, value in attachment.auxiliary_losses().items()})
        return losses

    def set_batch_groups(self, groups: Optional[torch.Tensor]) -> None:
        for attachment in self.attachments.values():
            attachment.set_batch_groups(groups)

    def memory_readouts(self) -> dict[str, MemoryReadout]:
        readouts = {}
        for place, attachment in self.attachments.items():
            if attachment.last_readout is not None:
                readouts[place] = attachment.last_readout
        return readouts
