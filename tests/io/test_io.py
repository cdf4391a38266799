"""Image I/O: bit depth, alpha, palette, EXIF orientation, atomic writes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from memrestore.errors import ImageReadError, OutputWriteError
from memrestore.io import ImageData, read_image, to_float_rgb, with_pixels, write_image


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("shape", [(20, 30, 3), (20, 30)])
def test_16bit_round_trip(tmp_path, rng, suffix, shape):
    pixels = rng.integers(0, 65536, shape).astype(np.uint16)
    write_image(tmp_path / f"a{suffix}", ImageData(pixels))
    back = read_image(tmp_path / f"a{suffix}")
    assert back.pixels.dtype == np.uint16 and back.bit_depth == 16
    np.testing.assert_array_equal(back.pixels, pixels)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_8bit_lossless_formats_round_trip(tmp_path, rng, suffix):
    pixels = rng.integers(0, 256, (17, 23, 3)).astype(np.uint8)
    path = tmp_path / f"a{suffix}"
    if suffix == ".webp":
        Image.fromarray(pixels).save(path, lossless=True)
    else:
        write_image(path, pixels)
    np.testing.assert_array_equal(read_image(path).pixels, pixels)


def test_jpeg_reads_close(tmp_path, rng):
    pixels = np.full((16, 16, 3), 120, np.uint8)
    write_image(tmp_path / "a.jpg", pixels)
    assert np.abs(read_image(tmp_path / "a.jpg").pixels.astype(int) - 120).max() <= 2


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_alpha_kept_aside_and_restored(tmp_path, rng, dtype):
    top = np.iinfo(dtype).max
    rgb = rng.integers(0, top + 1, (12, 14, 3)).astype(dtype)
    alpha = rng.integers(0, top + 1, (12, 14)).astype(dtype)
    write_image(tmp_path / "a.png", ImageData(rgb, alpha=alpha))
    image = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(image.pixels, rgb)
    np.testing.assert_array_equal(image.alpha, alpha)
    assert to_float_rgb(image).shape == (12, 14, 3)
    restored = with_pixels(image, to_float_rgb(image))  # identity restoration keeps everything
    write_image(tmp_path / "b.png", restored)
    again = read_image(tmp_path / "b.png")
    np.testing.assert_array_equal(again.pixels, rgb)
    np.testing.assert_array_equal(again.alpha, alpha)


def test_grey_and_palette_images(tmp_path, rng):
    grey = rng.integers(0, 256, (10, 12)).astype(np.uint8)
    write_image(tmp_path / "g.png", grey)
    image = read_image(tmp_path / "g.png")
    assert image.is_grey and to_float_rgb(image).shape == (10, 12, 3)
    assert with_pixels(image, to_float_rgb(image)).pixels.shape == (10, 12)
    palette = Image.fromarray(rng.integers(0, 256, (10, 12, 3)).astype(np.uint8)).convert("P")
    palette.save(tmp_path / "p.png")
    decoded = read_image(tmp_path / "p.png").pixels
    np.testing.assert_array_equal(decoded, np.asarray(palette.convert("RGB")))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied(tmp_path, rng, orientation):
    pixels = rng.integers(0, 256, (6, 9, 3)).astype(np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png")).convert("RGB"))
    np.testing.assert_array_equal(read_image(tmp_path / "o.png").pixels, expected)


def test_read_errors_name_the_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    write_image(tmp_path / "ok.png", np.zeros((64, 64, 3), np.uint8) + 7)
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:60])
    write_image(tmp_path / "ok.jpg", np.zeros((64, 64, 3), np.uint8) + 7)
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "ok.jpg").read_bytes()[:200])
    cases = {"missing.png": "not found", "empty.png": "empty", "text.png": "not an image",
             "cut.png": "truncated", "cut.jpg": "cannot decode"}
    for name, message in cases.items():
        with pytest.raises(ImageReadError, match=message) as info:
            read_image(tmp_path / name)
        assert str(tmp_path / name) in str(info.value) and "\n" not in str(info.value)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    write_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "a.png", np.ones((8, 8, 3), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
    with pytest.raises(OutputWriteError, match="16-bit"):
        write_image(tmp_path / "b.jpg", ImageData(np.zeros((8, 8, 3), np.uint16)))
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]
