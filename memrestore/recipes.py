"""Configs as users run them: a YAML recipe, given as a path or as the name of one shipped inside the
package (``memorynet/derain_cpu`` is ``memrestore/configs/memorynet/derain_cpu.yaml``), read against
the schema (``config.py``) with its components (model, losses, datasets, metric convention) checked
against their registries: every check once, before any work starts.

Checkpoints go through ``checkpoint_config``, which checks the ``model`` section only: a checkpoint
stays loadable for inference when a later version renames a training option.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import Config, check_options, lenient_config, read_config
from .data import dataset_options
from .errors import ConfigError
from .losses import LOSSES
from .losses.features import MCLIR_LAYERS, feature_levels
from .metrics import CONVENTIONS
from .models import MODELS

SHIPPED = Path(__file__).parent / "configs"


def shipped_recipes() -> dict[str, str]:
    """Name -> first comment line of every recipe shipped with the package."""
    recipes = {}
    for path in sorted(SHIPPED.rglob("*.yaml")):
        first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")), "#")
        recipes[path.relative_to(SHIPPED).with_suffix("").as_posix()] = first.lstrip("# ").strip()
    return recipes


def resolve_recipe(name_or_path: str | Path) -> Path:
    """A config file path as given, or the shipped recipe of that name (with or without ``.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = SHIPPED / Path(str(name_or_path).removesuffix(".yaml") + ".yaml")
    if shipped.is_file() and not path.is_absolute():
        return shipped
    known = ", ".join(shipped_recipes())
    raise ConfigError(f"{name_or_path}: config file not found, and no shipped recipe has that name (shipped: {known})")


def load_config(name_or_path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a recipe (a path or a shipped name; None: defaults), apply ``KEY=VALUE`` overrides and
    validate the schema and every component."""
    path = resolve_recipe(name_or_path) if name_or_path is not None else None
    config = read_config(path, overrides)
    validate_components(config, str(path) if path is not None else "config")
    return config


def validate_components(config: Config, where: str = "config") -> None:
    """Check the names and options of the model, losses and datasets against their registries, the
    metric convention, and the SPN layer weights against its feature space."""
    validate_model(config, where)
    for key, dataset in (("train", config.data.train), ("val", config.data.val)):
        if dataset is not None:
            dataset.options = check_options(dataset_options(dataset.type, f"{where}: data.{key}.type"),
                                            dataset.options, f"{where}: data.{key}")
            for entry in dataset.patch_schedule:
                if len(entry) != 2:
                    raise ConfigError(f"{where}: data.{key}.patch_schedule entries are [step, size], got {entry}")
    for i, loss in enumerate(config.train.losses):
        loss.options = check_options(LOSSES.get(loss.name), loss.options, f"{where}: train.losses[{i}]")
    if config.eval.convention not in CONVENTIONS:
        raise ConfigError(f"{where}: eval.convention {config.eval.convention!r} is not one of {', '.join(CONVENTIONS)}")
    spn = config.model.spn
    if spn.enabled:
        levels = feature_levels(spn.features, MCLIR_LAYERS)
        if len(spn.layer_weights) > levels:
            raise ConfigError(f"{where}: model.spn.layer_weights lists {len(spn.layer_weights)} layers; "
                              f"{spn.features} features have {levels}")


def validate_model(config: Config, where: str = "config") -> None:
    """The model name and its options against the model registry."""
    config.model.options = check_options(MODELS.get(config.model.name), config.model.options, f"{where}: model")


def checkpoint_config(text: str) -> tuple[Config, list[str]]:
    """The Config stored beside a checkpoint: its model section validated, any other section this
    version cannot read replaced by defaults (their names are returned)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"checkpoint config is not valid JSON ({exc.msg} at character {exc.pos})") from None
    config, unreadable = lenient_config(data, "checkpoint config")
    validate_model(config, "checkpoint config")
    return config, unreadable
