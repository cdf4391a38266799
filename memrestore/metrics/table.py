"""Tables for terminal output, plain or Markdown (to paste into RESULTS.md under the command)."""

from __future__ import annotations


def format_table(headers: list[str], rows: list[list[object]], markdown: bool = False) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned, text left-aligned. With
    ``markdown``, a GitHub table (``| a | b |`` rows under a ``| --- |`` rule)."""
    def cell(value: object) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    body = [[cell(v) for v in row] for row in rows]
    if markdown:
        return "\n".join("| " + " | ".join(r) + " |" for r in [headers, ["---"] * len(headers), *body])
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(headers))]
    fmt = lambda r: "  ".join(v.rjust(w) if right else v.ljust(w) for v, w, right in zip(r, widths, numeric)).rstrip()
    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in body)])
