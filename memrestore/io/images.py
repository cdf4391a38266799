"""Reading and writing images without losing what a photographer cares about.

``read_image`` returns an ``ImageData``: the pixels in their native dtype (uint8 or uint16), the alpha
channel kept aside, the EXIF orientation already applied, and the ICC profile / EXIF bytes to write
back. ``to_float_rgb`` gives the float32 HxWx3 array in [0, 1] that models consume, and
``with_pixels`` puts restored float RGB back into the original layout (grey stays grey, alpha and bit
depth return) for ``write_image``, which writes atomically.

PNG and TIFF are decoded by OpenCV, because Pillow reduces 16-bit colour to 8 bits; other formats,
and all metadata, go through Pillow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageReadError
from .atomic import atomic_write_bytes

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_OPENCV_FORMATS = ("PNG", "TIFF")
_EXIF_ORIENTATION = 0x0112

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # bad files are reported by us


@dataclass
class ImageData:
    """Decoded pixels plus what is needed to write the image back faithfully."""

    pixels: np.ndarray  # HxW (grey) or HxWx3 (RGB), uint8 or uint16
    alpha: np.ndarray | None = None  # HxW, same dtype as pixels
    format: str = "PNG"
    icc_profile: bytes | None = None
    exif: bytes | None = None

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def is_grey(self) -> bool:
        return self.pixels.ndim == 2


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _decode_with_opencv(data: bytes, path: Path) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if array is None:
        raise ImageReadError(f"{path}: cannot decode image (truncated or corrupt file)")
    if array.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB
        array = cv2.cvtColor(array, code)
    return array


def _decode_with_pillow(image: Image.Image, path: Path) -> np.ndarray:
    try:
        image.load()
    except (OSError, SyntaxError) as exc:
        raise ImageReadError(f"{path}: cannot decode image ({exc})") from exc
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(image).astype(np.uint16)
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image)
    mode = "RGBA" if ("A" in image.mode or "transparency" in image.info) else "RGB"
    return np.asarray(image.convert(mode))  # palette, CMYK, 1-bit, ...


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation 1..8 to an HxW[xC] array: t = transpose, rK = rotate K x 90 degrees
    counter-clockwise, f = mirror left-right, applied in that order."""
    ops = {2: "f", 3: "r2", 4: "r2f", 5: "t", 6: "r3", 7: "r1f", 8: "r1"}.get(orientation, "")
    if ops.startswith("t"):
        array = np.swapaxes(array, 0, 1)
        ops = ops[1:]
    if ops.startswith("r"):
        array = np.rot90(array, int(ops[1]))
    if ops.endswith("f"):
        array = array[:, ::-1]
    return np.ascontiguousarray(array)


def read_image(path: str | Path) -> ImageData:
    """Read an image file; raises ``ImageReadError`` naming the file on any problem."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: file not found")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, expected an image file")
    data = path.read_bytes()
    if not data:
        raise ImageReadError(f"{path}: file is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{path}: not an image file (or an unsupported format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path}: cannot decode image (truncated or corrupt file: {exc})") from exc
    if image.format in _OPENCV_FORMATS:
        array = _decode_with_opencv(data, path)
    else:
        array = _decode_with_pillow(image, path)
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"{path}: unsupported sample type {array.dtype} (expected 8- or 16-bit)")
    orientation = _orientation(image)
    exif = image.info.get("exif")
    if orientation != 1:
        array = _apply_orientation(array, orientation)
        exif_obj = image.getexif()
        exif_obj[_EXIF_ORIENTATION] = 1  # pixels are now upright
        exif = exif_obj.tobytes()
    alpha = None
    if array.ndim == 3 and array.shape[2] in (2, 4):
        alpha = np.ascontiguousarray(array[..., -1])
        array = array[..., :-1]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return ImageData(
        pixels=np.ascontiguousarray(array),
        alpha=alpha,
        format=image.format or "PNG",
        icc_profile=image.info.get("icc_profile"),
        exif=exif,
    )


def to_float_rgb(image: ImageData) -> np.ndarray:
    """The image as float32 HxWx3 in [0, 1] (grey is repeated over three channels)."""
    scale = 65535.0 if image.pixels.dtype == np.uint16 else 255.0
    array = image.pixels.astype(np.float32) / scale
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return array


def from_float(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float in [0, 1] -> uint8/uint16 with rounding and clipping."""
    scale = 65535.0 if np.dtype(dtype) == np.uint16 else 255.0
    return (np.clip(array, 0.0, 1.0) * scale + 0.5).astype(dtype)


def with_pixels(template: ImageData, rgb01: np.ndarray) -> ImageData:
    """Restored float RGB in the layout of ``template``: same bit depth, grey-ness, alpha, metadata."""
    if rgb01.shape[:2] != template.pixels.shape[:2]:
        raise ValueError(f"restored size {rgb01.shape[:2]} differs from input size {template.pixels.shape[:2]}")
    pixels = from_float(rgb01, template.pixels.dtype)
    if template.is_grey:
        pixels = pixels.mean(axis=2).round().astype(template.pixels.dtype) if pixels.ndim == 3 else pixels
    return replace(template, pixels=pixels)


def _encode(image: ImageData, suffix: str) -> bytes:
    array = image.pixels if image.alpha is None else np.dstack([image.pixels, image.alpha])
    if image.bit_depth == 16:
        if suffix not in (".png", ".tif", ".tiff"):
            raise ValueError(f"cannot write 16-bit samples as {suffix}; use .png or .tif")
        if array.ndim == 3:
            code = cv2.COLOR_RGBA2BGRA if array.shape[2] == 4 else cv2.COLOR_RGB2BGR
            array = cv2.cvtColor(array, code)
        ok, buffer = cv2.imencode(suffix, array)
        if not ok:
            raise ValueError(f"OpenCV could not encode a {suffix} image")
        return buffer.tobytes()
    pil = Image.fromarray(array)
    if suffix in (".jpg", ".jpeg") and pil.mode in ("RGBA", "LA"):
        pil = pil.convert(pil.mode[:-1])  # JPEG has no alpha
    options: dict = {}
    if image.icc_profile:
        options["icc_profile"] = image.icc_profile
    if image.exif and suffix in (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"):
        options["exif"] = image.exif
    if suffix in (".jpg", ".jpeg"):
        options.update(quality=95, subsampling=0)
    elif suffix == ".webp":
        options.update(quality=95)
    buffer = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(suffix, suffix[1:].upper())
    pil.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def write_image(path: str | Path, image: ImageData | np.ndarray) -> None:
    """Write atomically; the format follows the file suffix. Arrays may be uint8/uint16 or float [0,1]."""
    path = Path(path)
    if not isinstance(image, ImageData):
        array = np.asarray(image)
        if np.issubdtype(array.dtype, np.floating):
            array = from_float(array, np.uint8)
        image = ImageData(pixels=array)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        raise ValueError(f"{path}: unsupported output extension {suffix!r}")
    atomic_write_bytes(path, _encode(image, suffix))


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p) and not p.name.startswith("."))
