"""Image files in and out (``images``), in-memory arrays and PIL images (``arrays``), crash-safe writes (``atomic``)."""

from .atomic import atomic_path, atomic_write_bytes, atomic_write_text, ensure_dir
from .images import ImageData, list_images, read_image, to_float_rgb, with_pixels, write_image

__all__ = [
    "ImageData",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "ensure_dir",
    "list_images",
    "read_image",
    "to_float_rgb",
    "with_pixels",
    "write_image",
]
