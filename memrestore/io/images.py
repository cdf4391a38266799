"""Reading and writing images without losing what a photographer cares about.

``read_image`` returns an ``ImageData``: the pixels in their native dtype (uint8 or uint16), the alpha
channel kept aside, the EXIF orientation already applied, and the ICC profile / EXIF bytes to write
back. ``to_float_rgb`` gives the float32 HxWx3 array in [0, 1] that models consume, and
``with_pixels`` puts restored float RGB back into the original layout (grey stays grey, alpha and bit
depth return) for ``write_image``, which writes atomically.

PNG and TIFF are decoded by OpenCV, because Pillow reduces 16-bit colour to 8 bits; other formats,
and all metadata, go through Pillow. 16-bit PNGs are encoded here (``_encode_png16``: grey, grey+alpha,
RGB, RGBA, with iCCP and eXIf chunks), since OpenCV writes no metadata and no grey+alpha; 16-bit TIFFs
go through tifffile (ICC profile kept; EXIF is not written into 16-bit TIFFs).

The image size is checked from the header, before any pixel is decoded, against ``max_pixels``
(default ``DEFAULT_MAX_PIXELS``), so a decompression bomb or an oversized scan is refused in one line.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageReadError, OutputWriteError
from .atomic import atomic_write_bytes
from .arrays import from_float, to_rgb01

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_OPENCV_FORMATS = ("PNG", "TIFF")
_EXIF_ORIENTATION = 0x0112
DEFAULT_MAX_PIXELS = 256_000_000  # well above a 100-megapixel photo; a 16-bit RGB one is ~1.5 GB in memory
_PILLOW_LIMIT = threading.Lock()  # Pillow's own bomb check is a module global; ours replaces it

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


def _is_grey_alpha(image: Image.Image, data: bytes) -> bool:
    """Grey+alpha samples; Pillow reports 16-bit PNG ones as RGBA, so the PNG header (IHDR colour
    type 4, at byte 25) decides for PNG."""
    return image.mode == "LA" or (image.format == "PNG" and len(data) > 25 and data[25] == 4)


def _open_header(data: bytes) -> Image.Image:
    """Parse the header with Pillow's size limit lifted (``read_image`` applies its own)."""
    with _PILLOW_LIMIT:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageData:
    """Read an image file; raises ``ImageReadError`` naming the file on any problem, including a
    size above ``max_pixels`` (checked from the header, before decoding)."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: file not found")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, expected an image file")
    data = path.read_bytes()
    if not data:
        raise ImageReadError(f"{path}: file is empty")
    try:
        image = _open_header(data)
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"{path}: not an image file (or an unsupported format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path}: cannot decode image (truncated or corrupt file: {exc})") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise ImageReadError(f"{path}: {width}x{height} = {width * height / 1e6:.0f} megapixels is over the limit of "
                             f"{max_pixels / 1e6:.0f} (raise it with --max-megapixels if the file is genuine)")
    if image.format in _OPENCV_FORMATS:
        array = _decode_with_opencv(data, path)
        if _is_grey_alpha(image, data) and array.ndim == 3:  # OpenCV expands grey+alpha to RGBA
            array = array[..., [0, 3]]
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


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from the file header, or None when Pillow cannot parse it (such files, e.g.
    some 16-bit TIFF variants, are still read fully by ``read_image``)."""
    try:
        with Image.open(path) as image:
            return image.width, image.height
    except Exception:
        return None


def to_float_rgb(image: ImageData) -> np.ndarray:
    """The image as float32 HxWx3 in [0, 1] (grey is repeated over three channels)."""
    return to_rgb01(image.pixels)[0]


def with_pixels(template: ImageData, rgb01: np.ndarray) -> ImageData:
    """Restored float RGB in the layout of ``template``: same bit depth, grey-ness, alpha, metadata."""
    if rgb01.shape[:2] != template.pixels.shape[:2]:
        raise ValueError(f"restored size {rgb01.shape[:2]} differs from input size {template.pixels.shape[:2]}")
    pixels = from_float(rgb01, template.pixels.dtype)
    if template.is_grey:
        pixels = pixels.mean(axis=2).round().astype(template.pixels.dtype) if pixels.ndim == 3 else pixels
    return replace(template, pixels=pixels)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode_png16(array: np.ndarray, icc_profile: bytes | None, exif: bytes | None) -> bytes:
    """A 16-bit PNG (PNG spec, ISO/IEC 15948): grey, grey+alpha, RGB or RGBA samples, every row with
    the Up filter, and the ICC profile (iCCP) and EXIF (eXIf) placed before the pixels."""
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = np.ascontiguousarray(array, dtype=">u2").reshape(height, -1).view(np.uint8)
    filtered = raw.copy()
    filtered[1:] -= raw[:-1]  # filter 2 (Up): byte minus the byte above, modulo 256
    scanlines = np.hstack([np.full((height, 1), 2, np.uint8), filtered])
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))]
    if icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    if exif:
        chunks.append(_png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif))
    chunks += [_png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6)), _png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _encode_tiff16(array: np.ndarray, icc_profile: bytes | None) -> bytes:
    import tifffile

    colour = array.ndim == 3 and array.shape[2] >= 3
    extra = ["unassalpha"] if array.ndim == 3 and array.shape[2] in (2, 4) else None
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, photometric="rgb" if colour else "minisblack", extrasamples=extra,
                     compression="zlib", iccprofile=icc_profile)
    return buffer.getvalue()


def _encode(image: ImageData, suffix: str) -> bytes:
    array = image.pixels if image.alpha is None else np.dstack([image.pixels, image.alpha])
    if image.bit_depth == 16:
        if suffix == ".png":
            return _encode_png16(array, image.icc_profile, image.exif)
        if suffix in (".tif", ".tiff"):
            return _encode_tiff16(array, image.icc_profile)
        raise OutputWriteError(f"cannot write 16-bit samples as {suffix}; use .png or .tif")
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


def write_image(path: str | Path, image: ImageData | np.ndarray, exclusive: bool = False) -> None:
    """Write atomically; the format follows the file suffix. Arrays may be uint8/uint16 or float [0,1].
    ``exclusive``: never replace a file of that name, even one created while this one was encoded."""
    path = Path(path)
    if not isinstance(image, ImageData):
        array = np.asarray(image)
        if np.issubdtype(array.dtype, np.floating):
            array = from_float(array, np.uint8)
        image = ImageData(pixels=array)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        raise OutputWriteError(f"{path}: unsupported output extension {suffix!r}")
    try:
        data = _encode(image, suffix)
    except OutputWriteError as exc:
        raise OutputWriteError(f"{path}: {exc}") from None
    atomic_write_bytes(path, data, exclusive=exclusive)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p) and not p.name.startswith("."))
