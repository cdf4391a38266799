"""In-memory image arrays <-> float RGB: dtype, grey-ness and alpha survive the round trip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from memrestore.io.arrays import array_to_pil, from_rgb01, pil_to_array, to_rgb01


@pytest.mark.parametrize("shape, dtype", [((6, 5, 3), np.uint8), ((6, 5, 3), np.uint16), ((6, 5, 3), np.float32),
                                          ((6, 5), np.uint8), ((6, 5, 1), np.uint16), ((6, 5, 4), np.uint8)])
def test_round_trip_keeps_the_form(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        array = rng.integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    else:
        array = rng.random(shape).astype(dtype)
    rgb, layout = to_rgb01(array)
    assert rgb.shape == (6, 5, 3) and rgb.dtype == np.float32 and 0.0 <= rgb.min() and rgb.max() <= 1.0
    back = from_rgb01(rgb, layout)
    assert back.dtype == dtype and back.shape == shape
    if np.issubdtype(dtype, np.integer):
        assert np.array_equal(back, array)
    else:
        assert np.allclose(back, array, atol=1e-6)


def test_alpha_is_passed_through_untouched(rng):
    rgba = rng.integers(0, 256, (4, 4, 4)).astype(np.uint8)
    rgb, layout = to_rgb01(rgba)
    out = from_rgb01(np.zeros_like(rgb), layout)
    assert np.array_equal(out[..., 3], rgba[..., 3]) and not out[..., :3].any()


@pytest.mark.parametrize("array, message", [(np.zeros((4, 4, 2), np.uint8), "HxW, HxWx3 or HxWx4"),
                                            (np.zeros((4,), np.uint8), "HxW, HxWx3 or HxWx4"),
                                            (np.zeros((4, 4, 3), np.int32), "unsupported image dtype int32")])
def test_not_an_image_is_a_value_error(array, message):
    with pytest.raises(ValueError, match=message):
        to_rgb01(array)


def test_pil_modes_become_rgb_or_rgba():
    palette = Image.new("P", (3, 2))
    assert pil_to_array(palette).shape == (2, 3, 3)
    assert pil_to_array(Image.new("LA", (3, 2))).shape == (2, 3, 4)
    assert pil_to_array(Image.new("L", (3, 2))).shape == (2, 3)
    assert array_to_pil(np.zeros((2, 3, 3), np.uint8)).size == (3, 2)
