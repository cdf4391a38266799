"""Comparison grids: every row's label is drawn whole, left of the first image."""

from __future__ import annotations

import numpy as np

from memrestore.visualize import comparison_grid


def test_a_long_label_widens_the_label_column_instead_of_running_under_the_images():
    image = np.full((20, 30, 3), 1.0, dtype=np.float32)  # white tiles: any dark pixel is label text
    short = comparison_grid({"input": [image]}, height=20)
    long = comparison_grid({"input": [image], "fast memory network with a long name": [image]}, height=20)
    assert short.shape == (24, 90 + 30 + 4, 3)  # the default label column
    first_image = long.shape[1] - 30 - 4
    assert first_image > 90
    text = np.nonzero(long[24:44].min(axis=(0, 2)) < 128)[0]  # columns where the long label has ink
    assert text.size and text.max() < first_image
