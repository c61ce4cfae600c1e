"""A Cairo camera that composites images only where they are.

Manim's stock camera pastes every ImageMobject into a transparent full-frame image and
alpha-composites the whole frame, once per image per frame. For an axis-aligned image this camera
resizes the image to its pixel box and composites only that box; rotated or skewed images fall
back to the stock path. An image whose pixel box has exactly its own size is copied without
resampling. Output is deterministic.

:func:`rasterize_band` draws a static vector mobject (e.g. a caption: a hundred glyphs) once into
an image at the camera's own pixel grid, so that every later frame copies it instead of filling
the glyph paths again; at 1:1 scale the copy is pixel-identical to drawing it.
"""

from __future__ import annotations

import numpy as np
from manim import Camera, ImageMobject
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
        region = pixel_array[cy0:cy1, cx0:cx1]
        if src.shape[:2] == (h, w) and src.dtype == np.uint8:  # 1:1: no resampling needed
            crop = src[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
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
    cam = Camera(pixel_width=camera.pixel_width, pixel_height=camera.pixel_height,
                 frame_width=camera.frame_width, frame_height=camera.frame_height,
                 frame_center=camera.frame_center, background_color=camera.background_color,
                 background_opacity=0.0)
    cam.capture_mobject(mobject)
    ph, fh = camera.pixel_height, camera.frame_height
    cy = camera.frame_center[1]
    r0 = max(0, int(np.floor((fh / 2 - (top - cy)) * ph / fh)) - 1)
    r1 = min(ph, int(np.ceil((fh / 2 - (bottom - cy)) * ph / fh)) + 1)
    pixels = np.array(cam.pixel_array[r0:r1], dtype=np.uint8)
    # Cairo stores premultiplied colour; images are composited with straight alpha
    alpha = pixels[..., 3:4].astype(np.float64)
    partial = (alpha > 0) & (alpha < 255)
    rgb = pixels[..., :3].astype(np.float64)
    straight = np.clip(np.round(rgb * 255.0 / np.maximum(alpha, 1)), 0, 255)
    pixels[..., :3] = np.where(partial, straight, rgb).astype(np.uint8)
    img = ImageMobject(pixels)
    img.set_resampling_algorithm(Image.NEAREST)
    y_top = cy + fh / 2 - r0 * fh / ph
    y_bottom = cy + fh / 2 - r1 * fh / ph
    img.stretch_to_fit_width(camera.frame_width)
    img.stretch_to_fit_height(y_top - y_bottom)
    img.move_to([camera.frame_center[0], (y_top + y_bottom) / 2, 0])
    return img
