"""The Python API: build models, load checkpoints, restore numpy / PIL / tensor images.

    import memrestore
    model = memrestore.load("runs/demo/model.safetensors", device="auto")
    clean = model(numpy_or_pil_image)      # same type, dtype and channel layout as the input
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from PIL import Image
from torch import nn

from .checkpoint import load_weights, read_checkpoint
from .config import Config
from .device import resolve_device
from .errors import CheckpointError, NonFiniteOutputError
from .inference import InferenceOptions, restore
from .io.images import from_float
from .models import build_model as _build

ImageLike = Union[np.ndarray, Image.Image, torch.Tensor]


def build_model(config: Config) -> nn.Module:
    """Instantiate the architecture named in ``config.model`` (weights freshly initialised)."""
    return _build(config.model.name, **config.model.options)


class Restorer:
    """A restoration model bound to a device; call it on an image to restore it.

    ``options`` (``InferenceOptions``) set tiling, a memory budget, test-time augmentation and bf16.
    """

    def __init__(self, model: nn.Module, config: Config, device: torch.device,
                 metadata: dict[str, Any] | None = None, options: InferenceOptions | None = None):
        self.model = model.to(device).eval()
        self.config = config
        self.device = device
        self.metadata = metadata or {}
        self.options = options or InferenceOptions()

    def restore_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """NCHW (or CHW) float tensor in [0, 1] -> restored tensor of the same shape. A model that
        produces NaN or infinite values raises ``NonFiniteOutputError`` instead of returning them."""
        batched = x.dim() == 4
        out = restore(self.model, x if batched else x[None], self.options)
        if not bool(torch.isfinite(out).all()):
            raise NonFiniteOutputError("the model produced NaN or infinite values (a diverged checkpoint?); "
                                       "nothing was written")
        return out if batched else out[0]

    def restore_array(self, rgb01: np.ndarray) -> np.ndarray:
        """Float32 HxWx3 in [0, 1] -> restored float32 HxWx3."""
        x = torch.from_numpy(np.ascontiguousarray(rgb01.transpose(2, 0, 1), dtype=np.float32))
        return self.restore_tensor(x).numpy().transpose(1, 2, 0)

    def __call__(self, image: ImageLike) -> ImageLike:
        if isinstance(image, torch.Tensor):
            return self.restore_tensor(image)
        if isinstance(image, Image.Image):
            return self._restore_pil(image)
        return self._restore_numpy(np.asarray(image))

    def _restore_numpy(self, array: np.ndarray) -> np.ndarray:
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
            raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {array.shape}")
        if array.dtype == np.uint8 or array.dtype == np.uint16:
            rgb = array.astype(np.float32) / (65535.0 if array.dtype == np.uint16 else 255.0)
        elif np.issubdtype(array.dtype, np.floating):
            rgb = array.astype(np.float32)
        else:
            raise ValueError(f"unsupported image dtype {array.dtype}; use uint8, uint16 or float in [0, 1]")
        grey = rgb.ndim == 2 or rgb.shape[2] == 1
        alpha = rgb[..., 3:] if rgb.ndim == 3 and rgb.shape[2] == 4 else None
        colour = np.repeat(rgb.reshape(rgb.shape[0], rgb.shape[1], 1), 3, 2) if grey else rgb[..., :3]
        out = self.restore_array(colour)
        if grey:
            out = out.mean(axis=2).reshape(array.shape)
        elif alpha is not None:
            out = np.concatenate([out, alpha], axis=2)
        if np.issubdtype(array.dtype, np.floating):
            return out.astype(array.dtype)
        return from_float(out, array.dtype)

    def _restore_pil(self, image: Image.Image) -> Image.Image:
        mode = image.mode
        work = image if mode in ("RGB", "RGBA", "L") else image.convert("RGBA" if "A" in mode else "RGB")
        return Image.fromarray(self._restore_numpy(np.asarray(work)))


def load_model(name_or_path: str | Path) -> tuple[nn.Module, Config, dict[str, Any]]:
    """Architecture with checkpoint weights (on CPU), its config and recorded metadata."""
    path = Path(name_or_path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found (no pretrained models are bundled; train one first)")
    checkpoint = read_checkpoint(path)
    model = build_model(checkpoint.config)
    load_weights(model, checkpoint.state_dict, path)
    return model.eval(), checkpoint.config, checkpoint.metadata


def load(name_or_path: str | Path, device: str | torch.device = "auto", **options: Any) -> Restorer:
    """Load a memrestore checkpoint (a ``.safetensors`` file or a run folder) onto ``device``.

    Keyword options are ``InferenceOptions`` fields: ``tile``, ``overlap``, ``max_memory``, ``tta``, ``bf16``.
    """
    inference, target = InferenceOptions(**options), resolve_device(device)  # checked before reading
    model, config, metadata = load_model(name_or_path)
    return Restorer(model, config, target, metadata, inference)
