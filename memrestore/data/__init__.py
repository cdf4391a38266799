"""Datasets: folder layouts of public benchmarks (``layouts``), paired and time-lapse datasets,
training transforms and synthetic degradations (``degrade``, ``synth``).

``build_dataset`` turns a ``DatasetConfig`` into a torch ``Dataset``; torch is imported only then,
so reading a config or listing pairs stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from ..errors import ConfigError
from .layouts import LAYOUTS, read_layout

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from ..config import DatasetConfig

DATASET_TYPES = (*LAYOUTS, "timelapse")


@dataclass
class TimeLapseOptions:
    """Options of ``type: timelapse``: the clean frame's file stem, the fewest frames a scene may
    have, and the target (``percentile`` / ``median`` pseudo-clean background, or ``clean``)."""

    clean_name: str = "clean"
    min_frames: int = 2
    background: Literal["percentile", "median", "clean"] = "percentile"
    percentile: float = 25.0


def dataset_options(type_name: str, where: str = "data type") -> Callable[..., Any]:
    """The callable whose keyword arguments are the valid options of dataset ``type_name``."""
    if type_name == "timelapse":
        return TimeLapseOptions
    if type_name not in LAYOUTS:
        raise ConfigError(f"{where}: unknown dataset type {type_name!r} (known: {', '.join(DATASET_TYPES)})")
    return LAYOUTS[type_name]


def build_dataset(config: "DatasetConfig", seed: int, training: bool) -> "Dataset":
    """The dataset a config describes: random patches when ``training``, whole images otherwise."""
    section = "data.train" if training else "data.val"
    if not config.root:
        raise ConfigError(f"data root is empty: set {section}.root (the dataset folder)")
    size = config.patch_size if training else 0
    if config.type == "timelapse":
        if not training:
            raise ConfigError("data.val: a time-lapse folder cannot be a validation set; validate on paired data")
        from .timelapse_dataset import TimeLapseDataset, read_timelapse

        options = TimeLapseOptions(**config.options)
        scenes = read_timelapse(config.root, config.strict, options.clean_name, options.min_frames)
        return TimeLapseDataset(scenes, config.frames, size, config.augment, seed, repeats=64,
                                background=options.background, percentile=options.percentile)
    from .paired_dataset import PairedImageDataset

    pairs = read_layout(config.type, config.root, config.strict, **config.options)
    return PairedImageDataset(pairs, size, config.augment and training, config.cache, seed,
                              repeats=64 if training else 1, where=config.root, mask_focus=config.mask_focus)


__all__ = ["DATASET_TYPES", "LAYOUTS", "TimeLapseOptions", "build_dataset", "dataset_options", "read_layout"]
