"""Restoration architectures, registered by name and imported lazily.

Every architecture is a ``RestorationModel`` (``interface.py``, the one documented model contract:
forward, ``size_multiple``, memory places and attachments, auxiliary losses, batch groups, memory
read-outs). ``forward(x)`` returns either the restored tensor or a list of stage outputs whose *last*
element is the final restoration (multi-stage networks supervise every stage, see ``final_output``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    import torch

    from ..config import ModelConfig
    from .interface import RestorationModel

MODELS = Registry(
    "model",
    {
        "unet": "memrestore.models.unet:UNet",
        "fastunet": "memrestore.models.unet:fast_unet",
        "mprnet": "memrestore.models.mprnet:MPRNet",
        "memorynet": "memrestore.models.memorynet:MemoryNet",
        "mgid": "memrestore.models.mgid:MGIDNet",
        # learning-free baselines
        "dark_channel_prior": "memrestore.models.classical:DarkChannelPrior",
        # peer architectures from spandrel / spandrel-extra-arches (optional dependencies)
        "nafnet": "memrestore.models.external:nafnet",
        "restormer": "memrestore.models.external:restormer",
        "swinir": "memrestore.models.external:swinir",
        "mixdehazenet": "memrestore.models.external:mixdehazenet",
    },
)


def build_model(name: str, **options: Any) -> "RestorationModel":
    """Instantiate a registered architecture with validated options."""
    from ..config import check_options

    from .interface import RestorationModel

    factory = MODELS.get(name)
    model = factory(**check_options(factory, options, f"model {name!r}"))
    if not isinstance(model, RestorationModel):
        raise TypeError(f"model {name!r} must build a RestorationModel (memrestore/models/interface.py)")
    return model


def model_from_config(config: "ModelConfig") -> "RestorationModel":
    """The architecture a config's ``model`` section names, freshly initialised."""
    return build_model(config.name, **config.options)


def final_output(outputs: "torch.Tensor | list[torch.Tensor]") -> "torch.Tensor":
    """The final restoration from a model's output (the last stage for multi-stage models)."""
    return outputs[-1] if isinstance(outputs, (list, tuple)) else outputs


__all__ = ["MODELS", "build_model", "final_output", "model_from_config"]
