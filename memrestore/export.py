"""Exporting checkpoints for deployment outside Python: ONNX and TorchScript, dynamic height/width.

Both formats are produced by tracing on an example whose size is *not* a multiple of the model's
``size_multiple``, so the internal padding is recorded with sizes computed from the input shape;
every export is then checked against PyTorch on two other random sizes (max abs diff <= 1e-4).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import MemrestoreError
from .io.atomic import atomic_path
from .models import final_output

TOLERANCE = 1e-4


class _FinalOutput(nn.Module):
    """Wraps a model so the exported graph returns only the final restoration, clamped to [0, 1]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return final_output(self.model(x)).clamp(0.0, 1.0)


def _example(model: nn.Module, batch: int = 1) -> torch.Tensor:
    multiple = int(getattr(model, "size_multiple", 1))
    return torch.rand(batch, 3, 8 * multiple + 3, 8 * multiple + 5)


def export_onnx(model: nn.Module, path: Path, opset: int = 18) -> Path:
    wrapped = _FinalOutput(model).eval()
    axes = {0: "batch", 2: "height", 3: "width"}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped, (_example(model),), str(tmp), input_names=["input"], output_names=["output"],
            dynamic_axes={"input": axes, "output": axes}, opset_version=opset, dynamo=False,
        )
    return path


def export_torchscript(model: nn.Module, path: Path) -> Path:
    wrapped = _FinalOutput(model).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(wrapped, _example(model), check_trace=False)
    with atomic_path(path) as tmp:
        traced.save(str(tmp))
    return path


def exported_runner(path: Path, fmt: str):
    """A callable numpy NCHW float32 -> numpy running the exported file."""
    if fmt == "onnx":
        try:
            import onnxruntime
        except ImportError as exc:
            raise MemrestoreError("checking an ONNX export needs onnxruntime: pip install onnxruntime") from exc
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {"input": x})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream but still deployed
        module = torch.jit.load(str(path))
    return lambda x: module(torch.from_numpy(x)).detach().numpy()


def verify_export(model: nn.Module, path: Path, fmt: str, sizes: tuple[tuple[int, int], ...] = ((45, 61), (64, 48))) -> float:
    """Largest |exported - PyTorch| over random images of several sizes; raises above TOLERANCE."""
    run = exported_runner(path, fmt)
    reference = _FinalOutput(model).eval()
    worst = 0.0
    generator = torch.Generator().manual_seed(0)
    for batch, (h, w) in enumerate(sizes, start=1):
        x = torch.rand(batch, 3, h, w, generator=generator)
        with torch.no_grad():
            expected = reference(x).numpy()
        worst = max(worst, float(np.abs(run(x.numpy()) - expected).max()))
    if worst > TOLERANCE:
        raise MemrestoreError(f"{path}: exported model differs from PyTorch by {worst:.2e} (> {TOLERANCE})")
    return worst


def export(model: nn.Module, path: Path, fmt: str) -> float:
    """Export ``model`` to ``path`` in ``fmt`` (onnx | torchscript) and verify it; returns the max diff."""
    if fmt == "onnx":
        export_onnx(model, path)
    elif fmt == "torchscript":
        export_torchscript(model, path)
    else:
        raise MemrestoreError(f"unknown export format {fmt!r} (onnx or torchscript)")
    return verify_export(model, path, fmt)
