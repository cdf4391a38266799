"""`memrestore bench`: method comparisons declared as YAML suites (``suite.py``), run under one budget
and scored on real test sets (``quality.py``), and side-by-side speed tables (``speed.py``); reports
are JSON + Markdown headed by their command (``report.py``)."""
