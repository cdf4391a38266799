"""`memrestore bench`: method comparisons declared as YAML suites (``suite.py``), run under one budget
and scored on real test sets (``quality.py``), side-by-side speed tables (``speed.py``), and a suite's
model packaged as a task's default with its card (``package.py``); reports are JSON + Markdown headed
by their command (``report.py``)."""

# `bench speed --variants`: name -> (bf16 autocast, channels-last); kept here, free of torch, for the CLI's choices.
VARIANTS = {"fp32": (False, False), "bf16": (True, False), "channels-last": (False, True),
            "bf16+channels-last": (True, True)}
