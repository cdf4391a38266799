"""Evaluation of a model on whole images of a paired dataset, under a named metric convention (and,
where given, the inference options a user would restore with: tiles, local pooling, TTA)."""

from __future__ import annotations

import numpy as np
from torch import nn

from ..data.paired_dataset import PairedImageDataset
from ..inference import InferenceOptions, restore
from ..metrics import psnr_ssim
from ..tensors import chw_to_hwc


def per_image_scores(model: nn.Module, dataset: PairedImageDataset, convention: str, crop_border: int = 0,
                     options: InferenceOptions | None = None) -> list[dict[str, float]]:
    """PSNR/SSIM of the model's restoration of every pair of ``dataset``, in its order."""
    scores = []
    for i in range(len(dataset)):
        item = dataset[i]
        restored = chw_to_hwc(restore(model, item["input"][None], options)[0])
        scores.append(psnr_ssim(restored, chw_to_hwc(item["target"]), convention, crop_border))
    return scores


def evaluate_model(model: nn.Module, dataset: PairedImageDataset, convention: str, crop_border: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM of the model's restorations over every pair of ``dataset``."""
    scores = per_image_scores(model, dataset, convention, crop_border)
    return {key: float(np.mean([s[key] for s in scores])) for key in ("psnr", "ssim")}
