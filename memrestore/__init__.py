"""memrestore: memory-augmented image restoration (MemoryNet, MGID, MCLIR) for researchers and
photographers.

Importing the package is cheap: torch and every optional dependency load only when an attribute
that needs them is first used.

    import memrestore
    restorer = memrestore.load("runs/demo/model.safetensors")
    clean = restorer(image)          # numpy HWC uint8/uint16/float or PIL image
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load": "memrestore.api",
    "model_from_config": "memrestore.models",
    "Restorer": "memrestore.api",
    "load_config": "memrestore.recipes",
    "Config": "memrestore.config",
    "read_image": "memrestore.io",
    "write_image": "memrestore.io",
    "metrics": "memrestore.metrics",
    "MemrestoreError": "memrestore.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if module.__name__.endswith(name) else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'memrestore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
