"""Measurements behind RESULTS.md, each run as ``python -m benchmarks.NAME`` from the repository root;
``report.write_report`` writes every result as JSON + Markdown headed by its command."""
