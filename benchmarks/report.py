"""Writing a benchmark's results: machine-readable JSON and a Markdown table headed by its command."""

from __future__ import annotations

import json
from pathlib import Path

from memrestore.io.atomic import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]  # the repository
SHARED = ROOT.parent / "shared" / "data"  # real data kept outside it (../shared/data)


def write_report(out: str | Path, stem: str, data: dict, lines: list[str]) -> None:
    """``out/stem.json`` (``data``) and ``out/stem.md`` (``lines``), each replaced atomically."""
    out = Path(out)
    atomic_write_text(out / f"{stem}.json", json.dumps(data, indent=2) + "\n")
    atomic_write_text(out / f"{stem}.md", "\n".join(lines) + "\n")
