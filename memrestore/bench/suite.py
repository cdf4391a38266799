"""A benchmark suite: methods compared under one budget, on the same training data, seeds and real
test sets, each scored with its task's metric convention. Plain YAML validated into dataclasses (the
schema of ``config.py``); every method's training config is built and checked when the suite loads,
so a mistyped option fails before anything trains. Paths are relative to the working directory.

    name: derain-equal-time
    budget: {minutes: 20}            # equal training time (calibrated to steps, 2 % warm-up), or {steps: N};
                                     # calibrated_seeds: 1 calibrates each method on the first seed only
    seeds: [0, 1, 2]
    recipe: [data.train.patch_size=96, train.losses=[{name: l1}]]   # overrides shared by every method
    train:                           # training pairs, merged into one folder
      - {root: ../shared/data/real/derain-JORDER-small, include: "train-*"}
      - {synth: {clean: ../shared/data/clean, task: derain, preset: heavy}}
    tests:
      Rain12: {root: ../shared/data/real/derain-Rain12, convention: y-matlab}
      # a task without real pairs is scored on pairs rendered on photos no run trains on:
      # Kodak24-shadows: {synth: {clean: ../shared/data/clean/Kodak24, task: deshadow, seed: 1}}
    methods:
      NAFNet-w16: {set: [model.name=nafnet, model.width=16]}
      fast memory: {recipe: fastunet/derain_cpu}
      NAFNet-w16, real pairs only:   # a method may train on its own sources instead of the suite's
        set: [model.name=nafnet, model.width=16]
        data: [{root: ../shared/data/real/derain-JORDER-small, include: "train-*"}]
    baseline: NAFNet-w16             # paired differences are taken against it
    jobs: 2                          # runs trained at once, each on cores / jobs threads (default 1)

With ``jobs`` > 1 every budget is calibrated first, one run at a time alone on the machine with the
threads its run will have, then the runs train side by side: their step counts, not their shared
wall clock, carry the equal-time budget.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..config import Config, bounds, from_dict, load_yaml
from ..data.presets import preset_ranges
from ..data.region import region_error
from ..errors import ConfigError
from ..recipes import load_config


@dataclass
class Budget:
    """Exactly one of ``minutes`` (training time, validation excluded) or ``steps``. ``calibrated_seeds``:
    an equal-time budget is a method's median speed over calibrations on its first this many seeds
    (default every seed; 1 saves the calibrations of a method whose speed barely varies between seeds)."""

    minutes: Optional[float] = None
    steps: Optional[int] = None
    calibrated_seeds: Optional[int] = None

    def words(self) -> str:
        """The budget as reports and cards write it: ``20 min`` or ``400 steps``."""
        return f"{self.minutes:g} min" if self.minutes is not None else f"{self.steps} steps"


@dataclass
class Synthesis:
    """``memrestore synth`` on clean photos (``data.synth.synthesize_pairs``); ``frames``: frames per
    scene of ``task: timelapse``."""

    clean: str = ""
    task: str = "derain"
    preset: Optional[str] = None
    renderings: int = bounds(1, 1)
    seed: int = 0
    frames: int = bounds(8, 2)


@dataclass
class Source:
    """Pairs from a dataset folder (``root`` in ``layout``, names filtered by the ``include`` glob) or
    made by ``synth``. ``layout: timelapse`` (or ``synth.task: timelapse``) gives scenes instead of
    pairs, ``include`` filtering scene names; a suite's sources are all pairs or all scenes.
    ``repeat``: the source is listed that many times (weighs a small real set against a large
    synthetic one). ``crop``: only this region of every real pair (``data.region``: fractions
    [left, top, right, bottom]), to train on part of a large pair and score on the rest."""

    root: str = ""
    layout: str = "paired"
    include: str = "*"
    synth: Optional[Synthesis] = None
    repeat: int = bounds(1, 1)
    crop: Optional[list[float]] = None

    @property
    def scenes(self) -> bool:
        return self.layout == "timelapse" if self.synth is None else self.synth.task == "timelapse"


@dataclass
class TestSet:
    """Pairs scored with ``convention``: real ones from a dataset folder in ``layout``, names filtered by
    the ``include`` glob, each pair cut to its ``crop`` region when given (as a ``Source``'s), or, for
    a task without real pairs here (shadows), ``synth`` pairs rendered on photos no method trains on."""

    root: str = ""
    layout: str = "paired"
    include: str = "*"
    convention: str = "rgb"
    crop: Optional[list[float]] = None
    synth: Optional[Synthesis] = None


@dataclass
class Method:
    """A training recipe (a shipped name or a path; none: the defaults) plus overrides; ``train:
    false`` scores the model as built (a learning-free baseline such as ``dark_channel_prior``).
    ``steps_of``: train as many steps as that method's run of the same seed instead of the suite's
    budget (an equal-steps control inside an equal-time suite); ``steps``: train exactly this many
    steps instead (a run replayed as it was first trained, such as a packaged default and a peer that
    each had their own calibrated budget); ``versus``: methods to take paired
    differences against besides the suite's baseline; ``data``: training sources of this method
    instead of the suite's ``train`` (a comparison of training sets: the same model on synthetic,
    real or mixed pairs)."""

    recipe: Optional[str] = None
    set: list[str] = field(default_factory=list)
    train: bool = True
    steps_of: Optional[str] = None
    steps: Optional[int] = None
    versus: list[str] = field(default_factory=list)
    data: list[Source] = field(default_factory=list)


@dataclass
class Suite:
    name: str = "suite"
    budget: Budget = field(default_factory=Budget)
    seeds: list[int] = bounds([0], 0, min_items=1)
    recipe: list[str] = field(default_factory=list)
    train: list[Source] = field(default_factory=list)
    tests: dict[str, TestSet] = field(default_factory=dict)
    curve: Optional[str] = None
    checkpoints: int = bounds(8, 1)
    methods: dict[str, Method] = field(default_factory=dict)
    baseline: Optional[str] = None
    jobs: int = bounds(1, 1)

    def threads(self) -> int:
        """Threads of each run: the machine's cores shared among ``jobs`` runs trained at once."""
        return max(1, (os.cpu_count() or 1) // self.jobs)

    def sources(self, method: str) -> list[Source]:
        """The training sources of ``method``: its own ``data``, else the suite's ``train``."""
        return self.methods[method].data or self.train

    def budget_words(self, method: str) -> str:
        """A method's training budget in words: its own ``steps`` where it has them, else the suite's."""
        steps = self.methods[method].steps
        return Budget(steps=steps).words() if steps is not None else self.budget.words()


def load_suite(path: str | Path, purpose: str = "quality") -> Suite:
    """Read and check a suite, including every method's training config. A suite read for ``speed``
    needs only its methods (a speed-only suite lists no training data or test sets)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: suite file not found")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    suite = from_dict(Suite, data, str(path))
    if not suite.methods:
        raise ConfigError(f"{path}: a suite needs methods")
    if purpose == "quality" and (not suite.tests or not all(suite.sources(m) for m, s in suite.methods.items() if s.train)):
        raise ConfigError(f"{path}: a quality suite needs tests and train sources (this one only serves bench speed)")
    if purpose == "quality" and (suite.budget.minutes is None) == (suite.budget.steps is None):
        raise ConfigError(f"{path}: budget needs exactly one of minutes or steps, got {suite.budget}")
    if suite.budget.calibrated_seeds is not None and not (suite.budget.minutes is not None
                                                          and 1 <= suite.budget.calibrated_seeds <= len(suite.seeds)):
        raise ConfigError(f"{path}: budget.calibrated_seeds needs minutes and a number from 1 to the "
                          f"{len(suite.seeds)} seeds, got {suite.budget.calibrated_seeds}")
    if suite.baseline is not None and suite.baseline not in suite.methods:
        raise ConfigError(f"{path}: baseline {suite.baseline!r} is not one of the methods ({', '.join(suite.methods)})")
    if suite.curve is not None and suite.curve not in suite.tests:
        raise ConfigError(f"{path}: curve {suite.curve!r} is not one of the tests ({', '.join(suite.tests)})")
    for where, sources in [("train", suite.train), *((f"methods.{m}.data", s.data) for m, s in suite.methods.items())]:
        if any(bool(source.root) == (source.synth is not None) for source in sources):
            raise ConfigError(f"{path}.{where}: each train source needs either root or synth")
        if len({source.scenes for source in sources}) > 1:
            raise ConfigError(f"{path}.{where}: train sources mix time-lapse scenes and pairs; use one kind")
        for source in sources:
            if source.crop is not None and (source.synth is not None or source.scenes):
                raise ConfigError(f"{path}.{where}: crop applies to real pairs, not to synth sources or scenes")
    for where, region in [*((f"train: {s.root}", s.crop) for s in suite.train),
                          *((f"methods.{m}.data: {s.root}", s.crop) for m, spec in suite.methods.items() for s in spec.data),
                          *((f"tests.{n}", t.crop) for n, t in suite.tests.items())]:
        if region is not None and (problem := region_error(region)):
            raise ConfigError(f"{path}.{where}: {problem}")
    from ..metrics import CONVENTIONS

    for name, test in suite.tests.items():
        if bool(test.root) == (test.synth is not None):
            raise ConfigError(f"{path}.tests.{name}: a test set needs either root or synth")
        if test.synth is not None and (test.crop is not None or test.synth.task == "timelapse"):
            raise ConfigError(f"{path}.tests.{name}: a synth test set is whole pairs (no crop, no time-lapse)")
        if test.convention not in CONVENTIONS:
            raise ConfigError(f"{path}.tests.{name}: convention {test.convention!r} is not one of {', '.join(CONVENTIONS)}")
    for name, method in suite.methods.items():
        for other in [method.steps_of, *method.versus] if method.steps_of else method.versus:
            if other not in suite.methods or other == name:
                raise ConfigError(f"{path}.methods.{name}: {other!r} is not another method ({', '.join(suite.methods)})")
        if method.steps is not None and (method.steps < 1 or method.steps_of or not method.train):
            raise ConfigError(f"{path}.methods.{name}: steps needs a positive count, on a trained method without steps_of")
        if method.steps_of and (suite.methods[method.steps_of].steps_of or not suite.methods[method.steps_of].train):
            raise ConfigError(f"{path}.methods.{name}: steps_of {method.steps_of!r} names a method without a budget of its own")
        config = method_config(suite, name, "checked-at-load", seed=suite.seeds[0])  # every option checked before work
        sources = suite.sources(name)
        if method.train and sources and (config.data.train.type == "timelapse") != sources[0].scenes:
            raise ConfigError(f"{path}.methods.{name}: data.train.type is {config.data.train.type!r} but the train "
                              f"sources are {'time-lapse scenes' if sources[0].scenes else 'pairs'}")
    return suite


def slug(name: str) -> str:
    """``name`` as a file name: every character but letters and digits becomes ``_``."""
    return "".join(c if c.isalnum() else "_" for c in name)


def method_config(suite: Suite, method: str, train_root: str | Path, seed: int, overrides: list[str] | None = None) -> Config:
    """The validated training config of ``method`` for one seed (budget and data filled in later)."""
    spec = suite.methods[method]
    settings = [*suite.recipe, *spec.set, f"data.train.root={train_root}", f"seed={seed}", "train.samples=0",
                *(overrides or [])]
    try:
        return load_config(spec.recipe, settings)
    except ConfigError as exc:
        raise ConfigError(f"suite {suite.name!r}, method {method!r}: {exc}") from None


def digest(value: object) -> str:
    """12 hex digits of the JSON of ``value``: the name of what depends on exactly that value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def source_identity(source: Source | TestSet) -> str:
    """What a source's (or test set's) examples depend on: its settings and, for synthetic ones, the
    preset's ranges (a preset file refitted under the same name renders new data)."""
    if source.synth is None:
        return repr(source)
    ranges = preset_ranges(source.synth.task, source.synth.preset)
    return f"{source!r} ranges={sorted(ranges.items())!r}"


def run_key(suite: Suite, method: str, seed: int) -> str:
    """What a run depends on, hashed: its method, seed, budget and the suite's shared settings. A
    changed method gets a new key (it retrains); the others keep theirs (their runs are reused)."""
    spec = suite.methods[method]
    identity = {"recipe": spec.recipe, "set": spec.set, "train_it": spec.train, "shared": suite.recipe, "seed": seed,
                "budget": [suite.budget.minutes, suite.budget.steps], "train": [source_identity(s) for s in suite.sources(method)],
                "checkpoints": suite.checkpoints, **({"jobs": suite.jobs} if suite.jobs > 1 else {}),
                **({"calibrated_seeds": suite.budget.calibrated_seeds} if suite.budget.calibrated_seeds else {}),
                **({"steps_of": run_key(suite, spec.steps_of, seed)} if spec.steps_of else {}),
                **({"steps": spec.steps} if spec.steps is not None else {})}
    return digest(identity)

