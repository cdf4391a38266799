"""Evaluation of a model on whole images of a paired dataset, under a named metric convention."""

from __future__ import annotations

import numpy as np
from torch import nn

from ..data.paired_dataset import PairedImageDataset
from ..inference import run_model
from ..metrics import psnr_ssim
from ..tensors import chw_to_hwc


def evaluate_model(model: nn.Module, dataset: PairedImageDataset, convention: str, crop_border: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM of the model's restorations over every pair of ``dataset``."""
    scores = []
    for i in range(len(dataset)):
        item = dataset[i]
        restored = chw_to_hwc(run_model(model, item["input"][None])[0])
        target = chw_to_hwc(item["target"])
        scores.append(psnr_ssim(restored, target, convention, crop_border))
    return {key: float(np.mean([s[key] for s in scores])) for key in ("psnr", "ssim")}
