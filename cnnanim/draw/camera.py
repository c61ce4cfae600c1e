"""A Cairo camera that composites images only where they are.

Manim's stock camera pastes every ImageMobject into a transparent full-frame image and
alpha-composites the whole frame, once per image per frame. For an axis-aligned image this camera
resizes the image to its pixel box and composites only that box; rotated or skewed images fall
back to the stock path. An image whose pixel box has exactly its own size is copied without
resampling. Output is deterministic.

:func:`rasterize` draws any static mobject once into an image that sits exactly on the camera's
pixel grid; :class:`FadePicture` fades such a picture in or out by its ``picture_opacity``, which
this camera applies while compositing (one image per frame instead of hundreds of glyph fills).

:func:`rasterize_band` draws a static vector mobject (e.g. a caption: a hundred glyphs) once into
an image at the camera's own pixel grid, so that every later frame copies it instead of filling
the glyph paths again; at 1:1 scale the copy is pixel-identical to drawing it.
"""

from __future__ import annotations

import numpy as np
from manim import Animation, Camera, ImageMobject
from PIL import Image


class BoxCamera(Camera):
    """Camera whose image compositing touches only the image's bounding box."""

    def display_image_mobject(self, image_mobject, pixel_array: np.ndarray) -> None:
        corners = self.points_to_subpixel_coords(image_mobject, image_mobject.points)
        ul, ur, dl, dr = corners[:4]
        axis_aligned = (abs(ul[1] - ur[1]) < 1e-6 and abs(dl[1] - dr[1]) < 1e-6
                        and abs(ul[0] - dl[0]) < 1e-6 and abs(ur[0] - dr[0]) < 1e-6
                        and ur[0] > ul[0] and dl[1] > ul[1])
        if not axis_aligned:
            super().display_image_mobject(image_mobject, pixel_array)
            return
        x0, y0 = int(np.floor(ul[0] + 0.5)), int(np.floor(ul[1] + 0.5))
        x1, y1 = int(np.floor(dr[0] + 0.5)), int(np.floor(dr[1] + 0.5))
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            return
        height, width = pixel_array.shape[:2]
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if cx0 >= cx1 or cy0 >= cy1:
            return
        src = image_mobject.get_pixel_array()
        if src.shape[2] == 3:
            src = np.concatenate([src, np.full(src.shape[:2] + (1,), 255, np.uint8)], axis=2)
        opacity = float(getattr(image_mobject, "picture_opacity", 1.0))
        if opacity <= 0.0:
            return
        region = pixel_array[cy0:cy1, cx0:cx1]
        if src.shape[:2] == (h, w) and src.dtype == np.uint8:  # 1:1: no resampling needed
            crop = src[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            if opacity < 1.0:  # a picture fading in or out (see FadePicture)
                crop = crop.copy()
                crop[..., 3] = np.round(crop[..., 3] * opacity).astype(np.uint8)
                base = Image.fromarray(np.ascontiguousarray(region), mode="RGBA")
                sub = Image.fromarray(np.ascontiguousarray(crop), mode="RGBA")
                region[:, :] = np.asarray(Image.alpha_composite(base, sub))
                return
            rows = _opaque_rows(image_mobject, src)[cy0 - y0:cy1 - y0]
            if rows.all():
                region[:, :] = crop
                return
            if rows.any():  # copy the opaque rows, composite only the others
                region[rows] = crop[rows]
                rest = ~rows
                base = Image.fromarray(np.ascontiguousarray(region[rest]), mode="RGBA")
                sub = Image.fromarray(np.ascontiguousarray(crop[rest]), mode="RGBA")
                region[rest] = np.asarray(Image.alpha_composite(base, sub))
                return
            sub = Image.fromarray(np.ascontiguousarray(crop), mode="RGBA")
        else:
            if opacity < 1.0:
                src = np.array(src, dtype=np.uint8)
                src[..., 3] = np.round(src[..., 3] * opacity).astype(np.uint8)
            sub = Image.fromarray(np.ascontiguousarray(src, dtype=np.uint8), mode="RGBA")
            sub = sub.resize((w, h), resample=image_mobject.resampling_algorithm)
            if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
                sub = sub.crop((cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0))
            if sub.getextrema()[3][0] == 255:  # fully opaque: a copy is the composite
                region[:, :] = np.asarray(sub)
                return
        base = Image.fromarray(np.ascontiguousarray(region), mode="RGBA")
        region[:, :] = np.asarray(Image.alpha_composite(base, sub))


def _opaque_rows(image_mobject, src: np.ndarray) -> np.ndarray:
    """Which rows of ``src`` (RGBA) are fully opaque; remembered while the mobject keeps the same
    array (ImageMobject.set_color and friends replace it)."""
    cached = getattr(image_mobject, "_cnnanim_opaque_rows", None)
    if cached is not None and cached[0] is src:
        return cached[1]
    rows = src[..., 3].min(axis=1) == 255
    image_mobject._cnnanim_opaque_rows = (src, rows)
    return rows


def rasterize_band(mobject, camera: Camera, top: float, bottom: float) -> ImageMobject:
    """``mobject`` drawn once by a Cairo camera like ``camera``, as an image of rows top..bottom.

    ``top`` and ``bottom`` are y coordinates (frame units) of a full-width band that holds the
    whole mobject. The image covers the whole pixel rows the band touches (a row only partly
    covered keeps its partial alpha) and sits exactly over those rows, so :class:`BoxCamera`
    copies it 1:1 without resampling. For an opaque band (a caption) the frames match drawing
    the mobject itself (the partly covered edge row within rounding).
    """
    full = _transparent_capture(mobject, camera)
    ph, fh = camera.pixel_height, camera.frame_height
    cy = camera.frame_center[1]
    r0 = max(0, int(np.floor((fh / 2 - (top - cy)) * ph / fh)) - 1)
    r1 = min(ph, int(np.ceil((fh / 2 - (bottom - cy)) * ph / fh)) + 1)
    return _place_on_grid(_straight_alpha(full[r0:r1]), camera, r0, 0)


def _transparent_capture(mobject, camera: Camera) -> np.ndarray:
    """``mobject`` drawn alone, on a transparent frame, by a Cairo camera like ``camera``
    (RGBA, premultiplied as Cairo stores it)."""
    cam = Camera(pixel_width=camera.pixel_width, pixel_height=camera.pixel_height,
                 frame_width=camera.frame_width, frame_height=camera.frame_height,
                 frame_center=camera.frame_center, background_color=camera.background_color,
                 background_opacity=0.0)
    cam.capture_mobject(mobject)
    return cam.pixel_array


def _straight_alpha(pixels: np.ndarray) -> np.ndarray:
    """Cairo's premultiplied RGBA as the straight alpha images are composited with."""
    pixels = np.array(pixels, dtype=np.uint8)
    alpha = pixels[..., 3:4].astype(np.float64)
    partial = (alpha > 0) & (alpha < 255)
    rgb = pixels[..., :3].astype(np.float64)
    straight = np.clip(np.round(rgb * 255.0 / np.maximum(alpha, 1)), 0, 255)
    pixels[..., :3] = np.where(partial, straight, rgb).astype(np.uint8)
    return pixels


def _place_on_grid(pixels: np.ndarray, camera: Camera, r0: int, c0: int) -> ImageMobject:
    """An image of ``pixels`` whose corners sit on pixel row ``r0`` and column ``c0``."""
    ph, pw = camera.pixel_height, camera.pixel_width
    fh, fw = camera.frame_height, camera.frame_width
    cx, cy = camera.frame_center[0], camera.frame_center[1]
    r1, c1 = r0 + pixels.shape[0], c0 + pixels.shape[1]
    img = ImageMobject(pixels)
    img.set_resampling_algorithm(Image.NEAREST)
    y_top, y_bottom = cy + fh / 2 - r0 * fh / ph, cy + fh / 2 - r1 * fh / ph
    x_left, x_right = cx - fw / 2 + c0 * fw / pw, cx - fw / 2 + c1 * fw / pw
    img.stretch_to_fit_width(x_right - x_left)
    img.stretch_to_fit_height(y_top - y_bottom)
    img.move_to([(x_left + x_right) / 2, (y_top + y_bottom) / 2, 0])
    return img


def rasterize(mobject, camera: Camera) -> ImageMobject | None:
    """``mobject`` drawn once, as an image exactly over the pixels it covers (None if none).

    :class:`BoxCamera` copies the image 1:1, so at full opacity a frame shows the same pixels
    as drawing the mobject itself (the anti-aliased edges within rounding).
    """
    pixels = _transparent_capture(mobject, camera)
    alpha = pixels[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    img = _place_on_grid(_straight_alpha(pixels[r0:r1, c0:c1]), camera, int(r0), int(c0))
    img.source_mobject = mobject
    return img


class FadePicture(Animation):
    """Fade a picture (from :func:`rasterize`) from one opacity to another.

    :class:`BoxCamera` applies ``picture_opacity`` while compositing, so a frame costs one
    image composite, whatever the picture shows.
    """

    def __init__(self, picture: ImageMobject, start: float, end: float, **kwargs) -> None:
        self.start_opacity, self.end_opacity = float(start), float(end)
        kwargs.setdefault("introducer", start == 0.0)
        kwargs.setdefault("remover", end == 0.0)
        super().__init__(picture, **kwargs)

    def begin(self) -> None:  # noqa: D102
        self.mobject.picture_opacity = self.start_opacity
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:  # noqa: D102
        a = self.rate_func(alpha)
        self.mobject.picture_opacity = self.start_opacity + (self.end_opacity - self.start_opacity) * a

    def finish(self) -> None:  # noqa: D102
        super().finish()
        self.mobject.picture_opacity = self.end_opacity
