"""Run configuration schema: plain YAML validated into dataclasses (a leaf: imports only ``errors``).

Every knob has a default, so a config file only states what differs. Unknown or mistyped keys are
errors that name the key (with a "did you mean" hint), wrong types are errors that name the expected
type, enumerated fields are ``Literal`` types, and numeric bounds live beside each field
(``bounds(...)`` metadata). ``check_options`` checks a component's options against its constructor
signature, so a model's or loss's own arguments need no second declaration; the registries call it,
and ``memrestore.recipes.load_config`` runs the schema and the component checks together, once,
before any work starts. YAML is read with YAML 1.2 floats (``1e-3``, ``1.0e30``), the way learning
rates are usually written.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional, Union

import yaml

from .errors import ConfigError


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 floats: PyYAML follows YAML 1.1, which reads ``1e-3`` and
    ``1.0e30`` as strings."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)  # integers still resolve first (the int resolver precedes this one)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=YamlLoader)


def bounds(default: Any, low: float | None = None, high: float | None = None, min_items: int = 0) -> Any:
    """A dataclass field with inclusive numeric bounds (for a list: on every item, and at least
    ``min_items`` items)."""
    metadata = {"low": low, "high": high, "min_items": min_items}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class SPNConfig:
    """MCLIR's Self-Prior guided Negative loss (``memrestore/engine/spn.py``). Defaults follow the
    published code (Aitical/MCLIR): four negative models refreshed every 100/200/500/1000 steps by
    theta_neg <- decay * theta_neg + (1 - decay) * theta, from 10 % of training, subtractive form with
    weight 0.001 on three feature layers weighted 0.2/0.3/0.5. ``every``: apply the term on every k-th
    step only (weight x k), to cut its cost (ours; 1 = published)."""

    enabled: bool = False
    form: Literal["subtractive", "ratio"] = "subtractive"
    weight: float = bounds(0.001, 0.0)
    intervals: list[int] = bounds([100, 200, 500, 1000], 1, min_items=1)
    decay: float = bounds(0.1, 0.0, 1.0)
    start: float = bounds(0.1, 0.0, 1.0)
    features: Literal["random", "vgg16", "vgg19", "pixel"] = "random"
    feature_weights: Optional[str] = None
    layer_weights: list[float] = bounds([0.2, 0.3, 0.5], 0.0)
    eps: float = bounds(0.01, 0.0)
    every: int = bounds(1, 1)


@dataclass
class ModelConfig:
    """Which registered architecture to build, its constructor options, and (``spn``) whether to
    train it with MCLIR's model-contrastive loss."""

    name: str = "unet"
    spn: SPNConfig = field(default_factory=SPNConfig)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LossConfig:
    """One weighted loss term; options go to the loss constructor. ``stages``: apply the term to
    every stage output of a multi-stage model (``all``, MPRNet's recipe) or to the final one only.
    ``start`` (a fraction of the iterations) and ``every``: use the term from ``start`` on, on every
    k-th step only, weight x k on those steps, to afford an expensive term (e.g. a VGG contrastive
    loss) on a CPU (``engine/schedule.py``; 0 and 1 = every step, as in the papers)."""

    name: str = "charbonnier"
    weight: float = 1.0
    stages: Literal["all", "final"] = "all"
    start: float = bounds(0.0, 0.0, 1.0)
    every: int = bounds(1, 1)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetConfig:
    """A dataset and how to batch it. ``type`` names a folder layout (``memrestore/data/layouts.py``:
    paired, folders, istd, srd, rain, spa, raindrop, gopro, reside; or ``timelapse``) and extra keys
    are that layout's options (e.g. ``input_dir``, ``split``, ``mask_dir``). ``strict: false`` skips
    unmatched files (logging them) instead of failing. ``patch_schedule``: progressive patch sizes as
    ``[[step, size], ...]`` (from ``step`` on, crops are ``size``). ``frames``: frames of one scene
    per item (timelapse), so a batch holds ``batch_size`` scenes x ``frames`` frames. ``mask_focus``:
    with masks (e.g. ``mask_dir: mask``), the share of crops centred on a masked pixel."""

    type: str = "paired"
    root: str = ""
    strict: bool = True
    patch_size: int = bounds(64, 1)
    patch_schedule: list[list[int]] = bounds([], 0)
    batch_size: int = bounds(8, 1)
    num_workers: int = bounds(0, 0)
    augment: bool = True
    cache: bool = True
    frames: int = bounds(4, 1)
    mask_focus: float = bounds(0.0, 0.0, 1.0)
    options: dict[str, Any] = field(default_factory=dict)

    def patch_size_at(self, step: int) -> int:
        """Crop size in effect at optimizer step ``step``."""
        size = self.patch_size
        for start, scheduled in sorted(self.patch_schedule):
            if step >= start:
                size = scheduled
        return size


@dataclass
class DataConfig:
    train: DatasetConfig = field(default_factory=DatasetConfig)
    val: Optional[DatasetConfig] = None


@dataclass
class OptimizerConfig:
    name: Literal["adam", "adamw"] = "adam"
    lr: float = bounds(2e-4, 0.0)
    weight_decay: float = bounds(0.0, 0.0)
    betas: list[float] = bounds([0.9, 0.999], 0.0, 1.0)


@dataclass
class SchedulerConfig:
    """Learning-rate schedule after a linear warm-up: ``constant``, ``cosine`` (to ``min_lr``) or
    ``multistep`` (times ``gamma`` at each of ``milestones``)."""

    name: Literal["constant", "cosine", "multistep"] = "cosine"
    warmup_iters: int = bounds(0, 0)
    min_lr: float = bounds(1e-6, 0.0)
    milestones: list[int] = bounds([], 0)
    gamma: float = bounds(0.5, 0.0)


@dataclass
class TrainConfig:
    """The optimisation loop. ``iterations`` counts optimizer steps; each step accumulates
    ``accumulate`` batches. ``amp``: none | bf16 (CPU or CUDA) | fp16 (CUDA, with loss scaling).
    ``ema`` is the decay of an exponential moving average of the weights (0 disables it).
    ``skip_nonfinite`` skips steps whose loss is NaN/inf instead of stopping; if more than
    ``max_skipped`` of the run's steps were skipped, the run ends with an error (its files are kept)."""

    iterations: int = bounds(1000, 1)
    accumulate: int = bounds(1, 1)
    grad_clip: float = bounds(0.0, 0.0)
    amp: Literal["none", "bf16", "fp16"] = "none"
    channels_last: bool = False
    compile: bool = False
    deterministic: bool = False
    ema: float = bounds(0.0, 0.0, 1.0)
    skip_nonfinite: bool = False
    max_skipped: float = bounds(0.1, 0.0, 1.0)
    log_every: int = bounds(20, 1)
    val_every: int = bounds(0, 0)
    checkpoint_every: int = bounds(200, 0)
    samples: int = bounds(2, 0)
    tensorboard: bool = False
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    losses: list[LossConfig] = field(default_factory=lambda: [LossConfig()])


@dataclass
class EvalConfig:
    """Metric convention (see ``memrestore.metrics.CONVENTIONS``) and border crop."""

    convention: str = "rgb"
    crop_border: int = bounds(0, 0)


@dataclass
class Config:
    name: str = "run"
    seed: int = 0
    device: str = "auto"
    output_dir: str = "runs"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


# Sections whose extra keys are component options rather than fields.
_COMPONENT_SECTIONS = {
    ModelConfig: ("name", "spn"),
    LossConfig: tuple(f.name for f in dataclasses.fields(LossConfig) if f.name != "options"),
    DatasetConfig: tuple(f.name for f in dataclasses.fields(DatasetConfig) if f.name != "options"),
}


def to_plain(obj: Any) -> Any:
    """Dataclass -> plain YAML/JSON-able data; component options are flattened back beside ``name``."""
    if isinstance(obj, tuple(_COMPONENT_SECTIONS)):
        out = {f: to_plain(getattr(obj, f)) for f in _COMPONENT_SECTIONS[type(obj)]}
        out.update(to_plain(obj.options))
        return out
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


def _unknown_key(key: str, known: list[str], where: str) -> ConfigError:
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return ConfigError(f"{where}: unknown key {key!r}{suggestion} (allowed: {', '.join(known)})")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check ``value`` against a type annotation, converting int->float and nested dataclasses."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if dataclasses.is_dataclass(annotation):
        return from_dict(annotation, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_type = args[0] if args else Any
        return [_coerce(v, item_type, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        item_type = args[1] if len(args) == 2 else Any
        return {k: _coerce(v, item_type, f"{where}.{k}") for k, v in value.items()}
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def from_dict(cls: type, data: Any, where: str = "config") -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = _field_types(cls)
    if cls in _COMPONENT_SECTIONS:
        fixed = {k: data[k] for k in _COMPONENT_SECTIONS[cls] if k in data}
        obj = cls(**{k: _field_value(cls, k, v, hints[k], f"{where}.{k}") for k, v in fixed.items()})
        obj.options = {k: v for k, v in data.items() if k not in fixed}
        return obj
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            raise _unknown_key(key, list(hints), where)
        kwargs[key] = _field_value(cls, key, value, hints[key], f"{where}.{key}")
    return cls(**kwargs)


def _field_value(cls: type, name: str, value: Any, annotation: Any, where: str) -> Any:
    """``value`` coerced to the field's type and checked against its ``bounds``."""
    value = _coerce(value, annotation, where)
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    low, high = meta.get("low"), meta.get("high")
    if isinstance(value, list) and len(value) < meta.get("min_items", 0):
        raise ConfigError(f"{where}: needs at least {meta['min_items']} item(s), got {value!r}")
    for item in _numbers(value):
        if (low is not None and item < low) or (high is not None and item > high):
            allowed = f">= {low}" if high is None else f"between {low} and {high}"
            raise ConfigError(f"{where}: {value!r} is out of range (must be {allowed})")
    return value


def _numbers(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def check_options(factory: Callable[..., Any], options: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate component ``options`` against ``factory``'s signature (names and annotated types)."""
    signature = inspect.signature(factory)
    try:
        hints = typing.get_type_hints(factory.__init__ if inspect.isclass(factory) else factory)
    except Exception:  # unresolvable annotations in third-party code: check names only
        hints = {}
    params = {
        name: p
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"
    }
    checked = {}
    for key, value in options.items():
        if key not in params:
            raise _unknown_key(key, list(params), where)
        checked[key] = _coerce(value, hints.get(key, Any), f"{where}.{key}")
    return checked


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a raw config mapping."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. train.iterations=500")
        try:
            value = load_yaml(raw)
        except yaml.YAMLError:
            value = raw
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return data


def read_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a YAML file (or start from defaults), apply overrides, check everything the schema knows
    (component names and options are checked by ``memrestore.recipes.load_config``)."""
    data: dict[str, Any] = {}
    where = "config"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            data = load_yaml(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config ({getattr(exc, 'strerror', None) or exc.__class__.__name__})") from None
        except yaml.YAMLError as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            at = f" (line {line + 1})" if line is not None else ""
            raise ConfigError(f"{path}: invalid YAML{at}: {getattr(exc, 'problem', exc)}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
    data = apply_overrides(data, overrides or [])
    return from_dict(Config, data, where)


def lenient_config(data: Any, where: str) -> tuple[Config, list[str]]:
    """A Config from a stored mapping (a checkpoint's), for inference: the ``model`` section must be
    valid; any other section this version cannot read (a renamed option, a removed key) falls back to
    its defaults, and its name is returned, so old checkpoints keep loading."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = _field_types(Config)
    config = Config(model=from_dict(ModelConfig, data.get("model"), f"{where}.model"))
    unreadable = []
    for key, value in data.items():
        if key == "model":
            continue
        try:
            setattr(config, key, _field_value(Config, key, value, hints[key], f"{where}.{key}"))
        except (ConfigError, KeyError):
            unreadable.append(key)
    return config, unreadable
