"""Datasets, transforms and synthetic degradations."""

from __future__ import annotations

from ..registry import Registry

DATASETS = Registry("dataset", {"paired": "memrestore.data.paired:PairedImageDataset"})

__all__ = ["DATASETS"]
