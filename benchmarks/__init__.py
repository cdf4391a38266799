"""Measurements behind RESULTS.md that a ``memrestore bench`` suite (``benchmarks/suites/``) does not
produce, each run as ``python -m benchmarks.NAME`` from the repository root; ``report.write_report``
writes every result as JSON + Markdown headed by its command.

What stays here: measurements that are not models compared under a budget, which a suite cannot
express: ``metrics_speed`` (the metrics themselves), ``realism`` (synthetic against real inputs),
``timelapse_background`` (MGID's pseudo-clean target), ``blocks_speed`` (single layers, not models),
``defaults_speed`` (the installed ``memrestore restore`` command on a 12 MP file, per task),
and ``mgid_memory_usage`` (which memory items a suite's trained runs read). A script goes when a
suite's table replaces it in RESULTS.md (``equal_time`` and ``package_default`` went when
``suites/default_deshadow_replay.yaml`` replayed the deshadow default they had made).
``presets/`` holds presets fitted for one suite only (a fold of a real set, e.g. ``raindrop-pair0.yaml``
for ``transfer_raindrop.yaml``, ``gopro-left.yaml`` for ``transfer_deblur.yaml``), each with the
command that fitted it in its suite's header; presets for users ship in ``memrestore/data/fitted_presets/``."""
