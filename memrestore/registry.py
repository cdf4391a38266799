"""Name -> component registries with lazy imports.

Each entry is stored as ``"module.path:attribute"`` and imported only when it is requested, so one
broken optional dependency (say, an external architecture package) breaks only its own entries and
never ``import memrestore``. Components defined inside the package may also register themselves with
the decorator form.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Iterator

from .errors import ConfigError


class Registry:
    """A mapping from names to classes or factories, resolved lazily."""

    def __init__(self, kind: str, entries: dict[str, str] | None = None) -> None:
        self.kind = kind
        self._targets: dict[str, str | Callable[..., Any]] = dict(entries or {})

    def register(self, name: str | None = None) -> Callable[[Any], Any]:
        """Decorator: ``@MODELS.register("unet")`` adds the decorated object under ``name``."""

        def add(obj: Any) -> Any:
            key = name or obj.__name__
            existing = self._targets.get(key)
            if existing is not None and existing is not obj and not isinstance(existing, str):
                raise ValueError(f"{self.kind} {key!r} is registered twice")
            self._targets[key] = obj
            return obj

        return add

    def get(self, name: str) -> Any:
        """Return the registered object, importing its module on first use."""
        if name not in self._targets:
            hint = difflib.get_close_matches(name, list(self._targets), n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(
                f"unknown {self.kind} {name!r}{suggestion} (known: {', '.join(sorted(self._targets))})"
            )
        target = self._targets[name]
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ConfigError(
                    f"{self.kind} {name!r} needs an optional dependency that is not installed: {exc}"
                ) from exc
            target = getattr(module, attr)
            self._targets[name] = target
        return target

    def names(self) -> list[str]:
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
