"""Command-line interface (``memrestore --help``)."""
