"""Writing a benchmark's results: machine-readable JSON and a Markdown table headed by its command."""

from __future__ import annotations

from pathlib import Path

from memrestore.bench.report import write_report  # the one report writer, shared with `memrestore bench`

ROOT = Path(__file__).resolve().parents[1]  # the repository
SHARED = ROOT.parent / "shared" / "data"  # real data kept outside it (../shared/data)

__all__ = ["ROOT", "SHARED", "write_report"]
