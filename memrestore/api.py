"""The Python API: load checkpoints and restore numpy / PIL / tensor images.

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

from .checkpoint import load_weights, read_checkpoint, read_weights_file
from .config import Config, ModelConfig
from .device import resolve_device
from .errors import CheckpointError, NonFiniteOutputError
from .inference import InferenceOptions, restore
from .io import read_image, to_float_rgb, with_pixels, write_image
from .io.arrays import array_to_pil, from_rgb01, pil_to_array, to_rgb01
from .io.images import DEFAULT_MAX_PIXELS
from .models import model_from_config
from .models.external import peer_from_weights
from .pretrained import TASKS, default_checkpoint
from .tensors import chw_to_hwc, hwc_to_chw

ImageLike = Union[np.ndarray, Image.Image, torch.Tensor]
# A 12 MP photo restores within this many bytes: the budget of `restore --task` and of `memrestore app`.
DEFAULT_MEMORY_BUDGET = 2 * 2**30


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
        return chw_to_hwc(self.restore_tensor(hwc_to_chw(rgb01)))

    def restore_file(self, source: str | Path, target: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS,
                     overwrite: bool = False) -> None:
        """Restore image file ``source`` into ``target``, keeping its bit depth, grey-ness, alpha, ICC
        profile and EXIF (the format follows ``target``'s suffix). ``target`` is created exclusively,
        never replacing a file, unless ``overwrite``. The one file-to-file path of the CLI and the app."""
        image = read_image(source, max_pixels)
        restored = self.restore_array(to_float_rgb(image))
        write_image(target, with_pixels(image, restored), exclusive=not overwrite)

    def __call__(self, image: ImageLike) -> ImageLike:
        if isinstance(image, torch.Tensor):
            return self.restore_tensor(image)
        if isinstance(image, Image.Image):
            return array_to_pil(self._restore_numpy(pil_to_array(image)))
        return self._restore_numpy(np.asarray(image))

    def _restore_numpy(self, array: np.ndarray) -> np.ndarray:
        rgb01, layout = to_rgb01(array)
        return from_rgb01(self.restore_array(rgb01), layout)


PEER_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")


def load_model(name_or_path: str | Path) -> tuple[nn.Module, Config, dict[str, Any]]:
    """Architecture with checkpoint weights (on CPU), its config and recorded metadata. A peer
    project's released weights (``.pth``/``.pt``/``.ckpt``/``.bin``, read with ``weights_only=True``)
    load too: spandrel detects their architecture."""
    path = Path(name_or_path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found (packaged defaults are loaded by task name: memrestore models)")
    if path.suffix.lower() in PEER_SUFFIXES:
        model = peer_from_weights(read_weights_file(path), str(path))
        config = Config(model=ModelConfig(name=model.architecture))
        return model.eval(), config, {"peer": model.architecture, "source": str(path)}
    checkpoint = read_checkpoint(path)
    model = model_from_config(checkpoint.config.model)
    load_weights(model, checkpoint.state_dict, path)
    metadata = {**checkpoint.metadata, **({"unreadable_config": checkpoint.unreadable} if checkpoint.unreadable else {})}
    return model.eval(), checkpoint.config, metadata


def load(name_or_path: str | Path, device: str | torch.device = "auto", **options: Any) -> Restorer:
    """Load a memrestore checkpoint (a ``.safetensors`` file or a run folder), a peer's released
    weights, or the packaged default of a task (``"derain"``, ``"dehaze"``, ...) onto ``device``.

    Keyword options are ``InferenceOptions`` fields: ``tile``, ``overlap``, ``max_memory``, ``tta``, ``bf16``,
    ``channels_last``, ``local_pooling``.
    """
    inference, target = InferenceOptions(**options), resolve_device(device)  # checked before reading
    if isinstance(name_or_path, str) and name_or_path in TASKS and not Path(name_or_path).exists():
        name_or_path = default_checkpoint(name_or_path)
    model, config, metadata = load_model(name_or_path)
    return Restorer(model, config, target, metadata, inference)
