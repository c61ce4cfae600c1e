"""A Cairo camera that composites images only where they are.

Manim's stock camera pastes every ImageMobject into a transparent full-frame image and
alpha-composites the whole frame, once per image per frame. For an axis-aligned image this camera
resizes the image to its pixel box and composites only that box; rotated or skewed images fall
back to the stock path. Output is deterministic.
"""

from __future__ import annotations

import numpy as np
from manim import Camera
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
        sub = Image.fromarray(np.ascontiguousarray(src, dtype=np.uint8), mode="RGBA")
        sub = sub.resize((w, h), resample=image_mobject.resampling_algorithm)
        if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
            sub = sub.crop((cx0 - x0, cy0 - y0, cx1 - x0, cy1 - y0))
        region = pixel_array[cy0:cy1, cx0:cx1]
        if sub.getextrema()[3][0] == 255:  # fully opaque: a copy is the composite
            region[:, :] = np.asarray(sub)
            return
        base = Image.fromarray(np.ascontiguousarray(region), mode="RGBA")
        region[:, :] = np.asarray(Image.alpha_composite(base, sub))
