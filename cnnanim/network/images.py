"""Image loading and CNN Explainer's preprocessing (Pillow and numpy only)."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnanim.errors import CnnanimError
from cnnanim.files import Input, read_input
from cnnanim.network.presets import Preset, get_preset

#: The photo every command uses when no image is given (CC0, see data/PROVENANCE.md).
SAMPLE_IMAGE = Path(__file__).resolve().parent.parent / "data" / "coffee.png"

#: Images with more pixels than this are refused (decompression bombs, absurd sizes).
MAX_PIXELS = 64_000_000


def _open(source: Input) -> Image.Image:
    path = source.path
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(source.data))
            if img.width * img.height > MAX_PIXELS:
                raise CnnanimError(f"{path} is too large ({img.width}x{img.height} pixels; "
                                   f"at most {MAX_PIXELS:,} pixels)")
            img.load()
    except CnnanimError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CnnanimError(f"{path} is too large (more than {MAX_PIXELS:,} pixels)") from None
    except UnidentifiedImageError:
        raise CnnanimError(f"{path} is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise CnnanimError(f"{path} is a broken or truncated image ({e})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    if img.width < 1 or img.height < 1:
        raise CnnanimError(f"{path} has no pixels")
    return img


def _from_array(arr: np.ndarray) -> Image.Image:
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)  # CHW -> HWC
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.size == 0:
        raise CnnanimError(f"an image array must be HxW, HxWx1, HxWx3 or HxWx4, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise CnnanimError("the image array contains NaN or infinite values")
    if a.dtype == np.uint16:  # 16-bit samples: scale like a 16-bit image file
        a = np.rint(a.astype(np.float64) / 257.0).astype(np.uint8)
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        if a.max(initial=0) <= 1.0 and a.min(initial=0) >= 0.0:
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: alpha composited on white, 16-bit scaled to 8-bit."""
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        if img.mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0
        elif hi <= 255 and lo >= 0:
            lo, hi = 0.0, 255.0
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def fit_square(img: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to ``size`` and crop the central ``size`` x ``size`` square.

    An image that already is ``size`` x ``size`` is returned unchanged, as CNN Explainer does.
    """
    w, h = img.size
    if (w, h) == (size, size):
        return img
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    left, top = (nw - size) // 2, (nh - size) // 2
    if nw * nh > max(w * h, 16 * size * size):
        # A thin strip (e.g. 1x100000) would first grow to 64x6400000 pixels: scale only the
        # part of it that survives the crop (same sampling, at most rounding differences).
        sx, sy = w / nw, h / nh
        box = (left * sx, top * sy, (left + size) * sx, (top + size) * sy)
        return img.resize((size, size), Image.Resampling.BILINEAR, box=box, reducing_gap=3.0)
    img = img.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return img.crop((left, top, left + size, top + size))


def load_image(source: str | os.PathLike | np.ndarray | Image.Image | None = None,
               preset: str | Preset = "explainer") -> np.ndarray:
    """Load and preprocess an image the way CNN Explainer does.

    Parameters
    ----------
    source : path, Input, array, PIL image or None
        The image (a path or a file already read, see :func:`cnnanim.files.read_input`);
        ``None`` means the bundled sample photo. Any Pillow mode and size.
    preset : str or Preset
        Gives the input size and channels (RGB for ``explainer``, greyscale for ``seed``).

    Returns
    -------
    numpy.ndarray
        float32, shape (C, H, W), values in [0, 1].
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    if source is None:
        source = SAMPLE_IMAGE
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        img = _from_array(source)
    else:
        img = _open(source if isinstance(source, Input) else read_input(source, "image"))
    img = fit_square(to_rgb(img), p.image_size)
    if p.in_channels == 1:
        arr = np.asarray(img.convert("L"), dtype=np.float32)[None, :, :]
    else:
        arr = np.moveaxis(np.asarray(img, dtype=np.float32), -1, 0)
    return np.ascontiguousarray(arr / np.float32(255.0))


def describe_preprocessing(preset: str | Preset) -> str:
    """How :func:`load_image` turns a photo into the input of ``preset`` (for weights metadata)."""
    p = get_preset(preset) if isinstance(preset, str) else preset
    colour = "greyscale" if p.in_channels == 1 else "RGB"
    return (f"{colour}, shorter side scaled to {p.image_size}, centre crop "
            f"{p.image_size}x{p.image_size}, /255 to float32 in [0, 1]; no mean/std "
            "normalisation (as torchvision's ToTensor)")
