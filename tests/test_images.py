"""load_image: every Pillow mode, any size, arrays, both presets, and one-line errors."""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import png_with_size
from PIL import Image

from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.network.images import MAX_PIXELS, SAMPLE_IMAGE, fit_square, load_image
from cnnanim.network.presets import get_preset

COFFEE_SHA256 = "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"


def check_output(arr: np.ndarray, preset: str) -> None:
    assert isinstance(arr, np.ndarray)
    assert arr.shape == get_preset(preset).input_shape
    assert arr.dtype == np.float32
    assert arr.flags.c_contiguous
    assert np.all(np.isfinite(arr)) and arr.min() >= 0.0 and arr.max() <= 1.0


def rgb_of(arr: np.ndarray) -> tuple[float, ...]:
    """The colour (in 0..255) of a uniform (C, H, W) output; asserts it is uniform."""
    flat = arr.reshape(arr.shape[0], -1)
    assert np.all(flat == flat[:, :1]), "output is not uniform"
    return tuple(float(v) for v in np.rint(flat[:, 0] * 255))


def grey(rgb) -> float:
    """Pillow's RGB -> L (ITU-R 601-2 luma, rounded)."""
    return float(np.asarray(Image.new("RGB", (1, 1), tuple(int(v) for v in rgb)).convert("L"))[0, 0])


def save(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


# --------------------------------------------------------------------------------------------
# the sample photo
def test_sample_image_unchanged():
    assert hashlib.sha256(SAMPLE_IMAGE.read_bytes()).hexdigest() == COFFEE_SHA256
    with Image.open(SAMPLE_IMAGE) as img:
        assert img.size == (600, 400) and img.mode == "RGB"


@pytest.mark.parametrize("preset", ["explainer", "seed"])
def test_default_is_the_sample_image(preset):
    arr = load_image(None, preset)
    check_output(arr, preset)
    np.testing.assert_array_equal(arr, load_image(SAMPLE_IMAGE, preset))
    np.testing.assert_array_equal(arr, load_image(str(SAMPLE_IMAGE), get_preset(preset)))
    assert arr.std() > 0.05  # a real photo, not a flat colour


# --------------------------------------------------------------------------------------------
# no resampling at the model's own size
def test_64x64_rgb_is_pixel_exact(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.moveaxis(a, -1, 0).astype(np.float32) / np.float32(255)
    for src in (save(Image.fromarray(a), tmp_path / "a.png"), save(Image.fromarray(a), tmp_path / "a.bmp"),
                save(Image.fromarray(a), tmp_path / "a.tiff"), Image.fromarray(a), a):
        arr = load_image(src, "explainer")
        check_output(arr, "explainer")
        np.testing.assert_array_equal(arr, expected)


def test_28x28_greyscale_is_pixel_exact_for_seed(tmp_path):
    a = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    arr = load_image(save(Image.fromarray(a), tmp_path / "d.png"), "seed")
    check_output(arr, "seed")
    np.testing.assert_array_equal(arr, a[None].astype(np.float32) / np.float32(255))


# --------------------------------------------------------------------------------------------
# every Pillow mode (uniform 64x64 images, so the expected colour is known exactly)
def mode_cases(tmp_path):
    """(label, path or image, expected RGB in 0..255, tolerance)."""
    p = tmp_path
    pal = Image.new("P", (64, 64), 1)
    pal.putpalette([0, 0, 0, 200, 40, 10] + [0] * 762)
    ptrans = Image.new("P", (64, 64), 0)
    ptrans.putpalette([12, 34, 56, 200, 40, 10] + [0] * 762)
    la_half = Image.new("LA", (64, 64), (100, 128))
    rgba_half = Image.new("RGBA", (64, 64), (200, 0, 0, 128))
    half = lambda c: c * 128 / 255 + 255 * 127 / 255  # noqa: E731  (composited on white)
    return [
        ("L", save(Image.new("L", (64, 64), 100), p / "l.png"), (100, 100, 100), 0),
        ("LA opaque", save(Image.new("LA", (64, 64), (100, 255)), p / "la.png"), (100, 100, 100), 0),
        ("LA transparent", save(Image.new("LA", (64, 64), (100, 0)), p / "la0.png"), (255, 255, 255), 0),
        ("LA half", save(la_half, p / "la1.png"), (half(100),) * 3, 1),
        ("P", save(pal, p / "p.png"), (200, 40, 10), 0),
        ("P gif", save(pal, p / "p.gif"), (200, 40, 10), 0),
        ("P transparent", save(ptrans, p / "pt.png", transparency=0), (255, 255, 255), 0),
        ("P other index transparent", save(ptrans.point(lambda v: 1), p / "pt1.png", transparency=0),
         (200, 40, 10), 0),
        ("RGB", save(Image.new("RGB", (64, 64), (1, 128, 254)), p / "rgb.png"), (1, 128, 254), 0),
        ("RGB jpeg", save(Image.new("RGB", (64, 64), (30, 128, 220)), p / "rgb.jpg", quality=100),
         (30, 128, 220), 3),
        ("RGB webp", save(Image.new("RGB", (64, 64), (30, 128, 220)), p / "rgb.webp", lossless=True),
         (30, 128, 220), 0),
        ("RGBA opaque", save(Image.new("RGBA", (64, 64), (9, 99, 199, 255)), p / "rgba.png"), (9, 99, 199), 0),
        ("RGBA transparent", save(Image.new("RGBA", (64, 64), (9, 99, 199, 0)), p / "rgba0.png"),
         (255, 255, 255), 0),
        ("RGBA half", save(rgba_half, p / "rgba1.png"), (half(200), half(0), half(0)), 1),
        ("CMYK tiff", save(Image.new("CMYK", (64, 64), (255, 0, 0, 0)), p / "cmyk.tiff"), (0, 255, 255), 0),
        ("CMYK white", save(Image.new("CMYK", (64, 64), (0, 0, 0, 0)), p / "cmykw.tiff"), (255, 255, 255), 0),
        ("CMYK jpeg", save(Image.new("CMYK", (64, 64), (0, 255, 0, 0)), p / "cmyk.jpg", quality=100),
         (255, 0, 255), 3),
        ("I;16 max", save(Image.new("I;16", (64, 64), 65535), p / "i16.png"), (255, 255, 255), 0),
        ("I;16 mid", save(Image.new("I;16", (64, 64), 128 * 257), p / "i16m.png"), (128, 128, 128), 0),
        ("I;16 low", save(Image.new("I;16", (64, 64), 255), p / "i16l.png"), (1, 1, 1), 0),
        ("I;16 tiff", save(Image.new("I;16", (64, 64), 64 * 257), p / "i16.tiff"), (64, 64, 64), 0),
        ("I 8-bit range", save(Image.new("I", (64, 64), 77), p / "i.tiff"), (77, 77, 77), 0),
        ("F 8-bit range", save(Image.new("F", (64, 64), 200.0), p / "f.tiff"), (200, 200, 200), 0),
        ("1 white", save(Image.new("1", (64, 64), 1), p / "one.png"), (255, 255, 255), 0),
        ("1 black", save(Image.new("1", (64, 64), 0), p / "zero.png"), (0, 0, 0), 0),
        ("RGB in memory", Image.new("RGB", (64, 64), (5, 6, 7)), (5, 6, 7), 0),
        ("I;16 in memory", Image.new("I;16", (64, 64), 65535), (255, 255, 255), 0),
        ("YCbCr in memory", Image.new("RGB", (64, 64), (10, 200, 30)).convert("YCbCr"), (10, 200, 30), 3),
    ]


def test_every_mode_both_presets(tmp_path):
    for label, src, rgb, tol in mode_cases(tmp_path):
        arr = load_image(src, "explainer")
        check_output(arr, "explainer")
        got = rgb_of(arr)
        assert np.allclose(got, rgb, atol=tol + 1e-9), (label, got, rgb)
        s = load_image(src, "seed")
        check_output(s, "seed")
        assert abs(rgb_of(s)[0] - grey(got)) <= 0.0 + 1e-9, (label, rgb_of(s), grey(got))


def test_mode_i_and_f_with_wide_range_are_stretched(tmp_path):
    a = np.zeros((64, 64), dtype=np.int32)
    a[:, 32:] = 4095  # 12-bit
    a[:, 16:32] = 2048
    arr = load_image(save(Image.fromarray(a, "I"), tmp_path / "i12.tiff"))
    check_output(arr, "explainer")
    assert arr[:, 0, 0].tolist() == [0, 0, 0] and arr[:, 0, 63].tolist() == [1, 1, 1]
    assert abs(arr[0, 0, 20] * 255 - 2048 / 4095 * 255) <= 0.5 + 1e-6
    f = np.linspace(-1.0, 1.0, 64 * 64, dtype=np.float32).reshape(64, 64)
    arr = load_image(save(Image.fromarray(f, "F"), tmp_path / "f.tiff"), "explainer")
    check_output(arr, "explainer")
    assert arr.min() == 0 and arr.max() == 1
    np.testing.assert_allclose(arr[0], np.rint((f + 1) / 2 * 255) / 255, atol=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (64, 32), (255, 0, 0))
    img.paste((0, 0, 255), (0, 0, 32, 32))  # left half blue, right half red
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = save(img, tmp_path / "rot.jpg", exif=exif, quality=100)
    arr = load_image(path)
    check_output(arr, "explainer")
    # displayed: 32 wide, 64 tall, blue on top; scaled to 64x128 and centre-cropped
    assert arr[2, 2, 32] > 0.9 and arr[0, 2, 32] < 0.1   # top: blue
    assert arr[0, 61, 32] > 0.9 and arr[2, 61, 32] < 0.1  # bottom: red


# --------------------------------------------------------------------------------------------
# any size
SIZES = [(1, 1), (2, 3), (3, 2), (7, 5), (63, 63), (65, 64), (64, 65), (28, 28), (100, 100),
         (600, 400), (400, 600), (3000, 50), (50, 3000), (1600, 1200), (4000, 3)]


@pytest.mark.parametrize("size", SIZES)
def test_any_size_uniform_colour(tmp_path, size):
    path = save(Image.new("RGB", size, (17, 130, 240)), tmp_path / "u.png")
    for preset in ("explainer", "seed"):
        arr = load_image(path, preset)
        check_output(arr, preset)
    assert rgb_of(load_image(path, "explainer")) == (17, 130, 240)
    assert rgb_of(load_image(path, "seed"))[0] == grey((17, 130, 240))


def thirds(size, horizontal: bool) -> Image.Image:
    """Red, green, blue thirds along the long side."""
    w, h = size
    a = np.zeros((h, w, 3), dtype=np.uint8)
    n = w if horizontal else h
    cuts = [0, n // 3, 2 * n // 3, n]
    for i in range(3):
        sl = (slice(None), slice(cuts[i], cuts[i + 1])) if horizontal else (slice(cuts[i], cuts[i + 1]), slice(None))
        a[sl + (i,)] = 255
    return Image.fromarray(a)


@pytest.mark.parametrize("size", [(3000, 50), (50, 3000), (300, 1), (1, 300), (200000, 1), (1, 200000),
                                  (90000, 20)])
def test_long_thin_images_keep_the_centre_and_stay_small(size, monkeypatch):
    horizontal = size[0] > size[1]
    img = thirds(size, horizontal)
    resized = []
    real_resize = Image.Image.resize

    def spy(self, new_size, *args, **kwargs):
        resized.append(tuple(new_size))
        return real_resize(self, new_size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    t0 = time.perf_counter()
    arr = load_image(img)
    elapsed = time.perf_counter() - t0
    check_output(arr, "explainer")
    # the centre crop lies inside the green third
    np.testing.assert_array_equal(arr[1], np.ones((64, 64), np.float32))
    assert arr[0].max() == 0 and arr[2].max() == 0
    # no scaled copy larger than the image itself or 16 output squares (1x200000 would otherwise
    # become 64x12800000 pixels, 2.4 GB, before the crop)
    assert resized and max(w * h for w, h in resized) <= max(size[0] * size[1], 16 * 64 * 64), resized
    assert elapsed < 5.0, f"{size}: {elapsed:.2f} s"


def reference_fit(img: Image.Image, size: int) -> Image.Image:
    """Scale the shorter side to ``size`` (whole image), then crop the centre: the definition."""
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    big = img.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return big.crop((left, top, left + size, top + size))


@pytest.mark.parametrize("size", [(600, 400), (640, 480), (97, 211), (65, 64), (33, 40), (1, 1), (5, 3),
                                  (300, 17), (17, 300), (1000, 999), (1500, 40), (7, 400)])
def test_fit_square_is_scale_then_centre_crop(size):
    rng = np.random.default_rng(size[0] * 7 + size[1])
    img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    for target in (64, 28):
        got = np.asarray(fit_square(img, target), dtype=int)
        ref = np.asarray(reference_fit(img, target), dtype=int)
        assert got.shape == (target, target, 3)
        w, h = size
        scale = target / min(w, h)
        scaled_pixels = max(target, round(w * scale)) * max(target, round(h * scale))
        thin = scaled_pixels > max(w * h, 16 * target * target)
        # exact for ordinary images; a thin strip is scaled only where it is kept: rounding only
        assert np.abs(got - ref).max() <= (1 if thin else 0), size


def test_fit_square_returns_same_size_unchanged():
    img = Image.new("RGB", (64, 64))
    assert fit_square(img, 64) is img


# --------------------------------------------------------------------------------------------
# arrays
def test_arrays_hwc_chw_float_and_grey():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.moveaxis(a, -1, 0).astype(np.float32) / np.float32(255)
    for src in (a, np.moveaxis(a, -1, 0), a / 255.0, (a / 255.0).astype(np.float32),
                np.moveaxis(a / 255.0, -1, 0), a.astype(np.float64), a.astype(np.int64)):
        arr = load_image(np.ascontiguousarray(src))
        check_output(arr, "explainer")
        np.testing.assert_array_equal(arr, expected)
    g = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    expected_g = np.repeat(g[None].astype(np.float32) / np.float32(255), 3, 0)
    for src in (g, g[:, :, None], g[None], g / 255.0):
        arr = load_image(src)
        check_output(arr, "explainer")
        np.testing.assert_array_equal(arr, expected_g)
    g28 = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(load_image(g28, "seed"), g28[None].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(load_image(g28 / 255.0, "seed"), g28[None].astype(np.float32) / np.float32(255))


def test_arrays_of_other_sizes_and_alpha():
    rng = np.random.default_rng(3)
    for shape in [(10, 20, 3), (300, 200, 3), (3, 50, 70), (1, 1, 3), (5, 9), (40, 30, 1)]:
        src = rng.random(shape)
        for preset in ("explainer", "seed"):
            check_output(load_image(src, preset), preset)
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    assert rgb_of(load_image(rgba)) == (255, 255, 255)  # fully transparent on white
    rgba[..., 3] = 255
    assert rgb_of(load_image(rgba)) == (200, 0, 0)
    # an array path and a file path give the same result
    a = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    np.testing.assert_array_equal(load_image(a), load_image(Image.fromarray(a)))


@pytest.mark.parametrize("bad", [np.zeros((0, 5, 3)), np.zeros((5, 5, 2)), np.zeros((2, 3, 4, 4)),
                                 np.zeros(7), np.array([[np.nan, 0.5], [0.1, 0.2]]),
                                 np.array([[np.inf, 0.5], [0.1, 0.2]])])
def test_bad_arrays_are_one_line_errors(bad):
    with pytest.raises(CnnanimError) as info:
        load_image(bad)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------------------------
# errors
def assert_one_line_error(source, *fragments, preset="explainer"):
    old = Image.MAX_IMAGE_PIXELS
    with pytest.raises(CnnanimError) as info:
        load_image(source, preset)
    msg = str(info.value)
    assert msg and "\n" not in msg, msg
    for f in fragments:
        assert f in msg, (f, msg)
    assert Image.MAX_IMAGE_PIXELS == old  # the global limit is restored
    return msg


def test_missing_file(tmp_path):
    assert_one_line_error(tmp_path / "nope.png", "not found", "nope.png")
    assert_one_line_error(str(tmp_path / "nope.png"), "not found")


def test_folder(tmp_path):
    assert_one_line_error(tmp_path, "folder")


def test_text_file(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is not an image\n" * 20)
    assert_one_line_error(p, "not an image", "notes.png")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    assert_one_line_error(p, "empty.jpg")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
@pytest.mark.parametrize("fraction", [0.5, 0.8])
def test_truncated_file(tmp_path, fmt, fraction):
    a = np.random.default_rng(4).integers(0, 256, (80, 70, 3), dtype=np.uint8)
    full = tmp_path / f"full.{fmt.lower()}"
    img = Image.fromarray(a)
    img = img.convert("P") if fmt == "GIF" else img
    img.save(full, fmt)
    load_image(full)  # the complete file is fine
    data = full.read_bytes()
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(data[:int(len(data) * fraction)])
    assert_one_line_error(cut, "cut.")


def test_header_only_png(tmp_path):
    data = (png_with_size(tmp_path / "a.png", 10, 10)).read_bytes()
    p = tmp_path / "hdr.png"
    p.write_bytes(data[:33])  # signature + IHDR, no pixel data
    assert_one_line_error(p, "hdr.png")


@pytest.mark.parametrize("w, h", [(100_000, 100_000), (9000, 9000), (MAX_PIXELS + 1, 1), (1, 2**31 - 1)])
def test_absurd_size_is_refused_without_allocating(tmp_path, w, h):
    p = png_with_size(tmp_path / "huge.png", w, h)
    data = p.read_bytes()  # the patched header really claims that size, with a valid CRC
    assert struct.unpack(">II", data[16:24]) == (w, h)
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(data[12:29])
    t0 = time.perf_counter()
    assert_one_line_error(p, "too large", "huge.png")
    assert time.perf_counter() - t0 < 5.0


def test_unknown_preset(tmp_path):
    with pytest.raises(UnknownNameError) as info:
        load_image(None, "mnist")
    assert "'mnist'" in str(info.value) and "explainer" in str(info.value) and "seed" in str(info.value)
    assert isinstance(info.value, CnnanimError) and "\n" not in str(info.value)
