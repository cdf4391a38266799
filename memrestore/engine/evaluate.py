"""Evaluation of a model on whole images of a paired dataset, under a named metric convention."""

from __future__ import annotations

import numpy as np
from torch import nn

from ..data.paired import PairedImageDataset
from ..inference import run_model
from ..metrics import psnr_ssim


def evaluate_model(model: nn.Module, dataset: PairedImageDataset, convention: str, crop_border: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM of the model's restorations over every pair of ``dataset``."""
    scores = []
    for i in range(len(dataset)):
        item = dataset[i]
        restored = run_model(model, item["input"][None])[0].numpy().transpose(1, 2, 0)
        target = item["target"].numpy().transpose(1, 2, 0)
        scores.append(psnr_ssim(restored, target, convention, crop_border))
    return {key: float(np.mean([s[key] for s in scores])) for key in ("psnr", "ssim")}
