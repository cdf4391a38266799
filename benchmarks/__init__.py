"""Measurements behind RESULTS.md that a ``memrestore bench`` suite (``benchmarks/suites/``) does not
produce, each run as ``python -m benchmarks.NAME`` from the repository root; ``report.write_report``
writes every result as JSON + Markdown headed by its command.

Two kinds stay here: measurements of things that are not trained methods (``metrics_speed``,
``realism``, ``timelapse_background``, ``blocks_speed``, ``defaults_speed``, ``package_default``), and
scripts whose suite is written but not yet run alone on the machine (``inference`` ->
``inference_speed.yaml``, ``memorynet_ablation`` -> ``memorynet_ablation*.yaml``, ``equal_time`` ->
``equal_time_*.yaml``, ``train_throughput`` -> a
``bench speed`` suite's recipe column); ``rain12`` holds their shared helpers. A script goes when its
suite's table replaces it in RESULTS.md. ``presets/`` holds presets fitted for one suite only (a fold of
a real set, e.g. ``raindrop-pair0.yaml`` for ``transfer_raindrop.yaml``, ``gopro-left.yaml`` for
``transfer_deblur.yaml``), each with the command that
fitted it in its suite's header; presets for users ship in ``memrestore/data/fitted_presets/``."""
