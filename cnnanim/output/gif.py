"""Small looping GIFs straight from the renderer's frames (never from the lossy MP4).

Manim's own ``--format gif`` assembles the GIF from encoded MP4 segments, so every frame carries
the video codec's chroma smear into the palette. Here a :class:`GifFrameWriter` (a
:class:`~manim.scene.scene_file_writer.SceneFileWriter`) takes the RGBA frames the Cairo renderer
produces, keeps only the ones that fall on the GIF's frame rate, resizes them with LANCZOS and
merges identical consecutive frames into longer ones. :func:`encode_gif` then builds ONE global
palette from a sample of the frames and writes a looping GIF atomically.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from manim.scene.scene_file_writer import SceneFileWriter
from PIL import Image

from cnnanim.errors import CnnanimError
from cnnanim.files import atomic_write, scratch_dir

#: Default GIF width in pixels and frame rate (frames per second).
DEFAULT_WIDTH = 480
DEFAULT_FPS = 10
#: Browsers slow down frames shorter than 20 ms, so the frame rate is capped at 50.
MAX_FPS = 50
#: A GIF's distinct frames are kept in memory; past this many bytes the render stops with advice.
MAX_FRAME_BYTES = 2 * 1024 ** 3
#: Frames sampled (evenly over the distinct frames) to build the global palette.
PALETTE_SAMPLES = 24


@dataclass
class GifFrames:
    """Distinct frames of an animation and how long each is shown.

    Attributes
    ----------
    frames : list of ndarray
        RGB ``uint8`` arrays (H, W, 3), already resized.
    durations : list of int
        Milliseconds each frame is shown (multiples of 10: the GIF time unit).
    """

    frames: list[np.ndarray] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)

    @property
    def total_ms(self) -> int:
        return int(sum(self.durations))


def gif_size(width: int, src_width: int, src_height: int) -> tuple[int, int]:
    """``(width, height)`` of a frame resized to ``width`` keeping the aspect ratio (even height)."""
    height = max(2, int(round(src_height * width / src_width / 2)) * 2)
    return int(width), height


class FrameSampler:
    """Turns a stream of ``(frame, repeat)`` at ``src_fps`` into distinct frames at ``fps``.

    Output frame ``k`` shows the source frame on screen at time ``k / fps``; a source frame
    equal to the previous kept one only lengthens it.
    """

    def __init__(self, src_fps: float, fps: float, width: int,
                 crop: tuple[int, int, int, int] | None = None) -> None:
        if not 0 < fps <= MAX_FPS:
            raise CnnanimError(f"fps must be between 1 and {MAX_FPS}, got {fps}")
        self.src_fps = float(src_fps)
        self.fps = float(fps)
        self.width = int(width)
        self.crop = crop  # (left, top, right, bottom) pixels of the source kept, None: all
        self.n_src = 0          # source frames received (repeats included)
        self.next_k = 0         # next output sample to fill
        self.starts: list[int] = []   # output sample index where each distinct frame starts
        self.frames: list[np.ndarray] = []
        self._last_src: np.ndarray | None = None
        self.nbytes = 0

    def _src_index(self, k: int) -> int:
        # the source frame on screen at time k / fps (tiny epsilon against float error)
        return int(np.floor(k * self.src_fps / self.fps + 1e-9))

    def add(self, pixels: np.ndarray, repeat: int = 1) -> None:
        """Take one rendered frame shown ``repeat`` times in a row."""
        end = self.n_src + max(0, int(repeat))
        while self._src_index(self.next_k) < end:
            if self._last_src is not None and np.array_equal(pixels, self._last_src):
                pass  # identical to the frame already kept: it just lasts longer
            else:
                self._last_src = pixels
                self.frames.append(self._resize(pixels))
                self.starts.append(self.next_k)
                self.nbytes += self.frames[-1].nbytes
                if self.nbytes > MAX_FRAME_BYTES:
                    raise CnnanimError(f"the GIF would hold over {MAX_FRAME_BYTES >> 30} GB of "
                                       f"frames; use a smaller --width or --fps")
            self.next_k += 1
        self.n_src = end

    def _resize(self, pixels: np.ndarray) -> np.ndarray:
        if self.crop is not None:
            x0, y0, x1, y1 = self.crop
            pixels = pixels[y0:y1, x0:x1]
        img = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
        size = gif_size(self.width, img.width, img.height)
        if size != img.size:
            img = img.resize(size, Image.Resampling.LANCZOS)
        return np.asarray(img)

    def result(self) -> GifFrames:
        """The distinct frames and their durations in milliseconds (10 ms steps, no drift)."""
        def t(k: int) -> int:  # time of output sample k, rounded to the GIF's 10 ms unit
            return int(round(k * 100 / self.fps)) * 10
        bounds = self.starts + [self.next_k]
        durations = [t(b) - t(a) for a, b in zip(bounds[:-1], bounds[1:])]
        return GifFrames(list(self.frames), durations)


class GifFrameWriter(SceneFileWriter):
    """A scene file writer that keeps frames for a GIF instead of encoding a video.

    Use it with an output format that encodes nothing (``png-sequence``): every frame the
    renderer produces goes through :class:`FrameSampler`; nothing is written to disk.
    Configure with :func:`gif_writer_class`.
    """

    gif_fps: float = DEFAULT_FPS
    gif_width: int = DEFAULT_WIDTH
    src_fps: float = 15.0

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.sampler = FrameSampler(self.src_fps, self.gif_fps, self.gif_width)

    def write_frame(self, pixels, *, repeat: int = 1) -> None:
        self.sampler.add(pixels, repeat)
        self.frame_count += repeat

    def output_image(self, image) -> None:  # no PNG sequence on disk
        pass

    def save_image(self, pixels) -> None:
        pass

    def finish(self) -> None:  # nothing to assemble; subtitles make no sense in a GIF
        pass


def gif_writer_class(fps: float, width: int, src_fps: float) -> type[GifFrameWriter]:
    """A :class:`GifFrameWriter` subclass for ``fps``, ``width`` and the renderer's frame rate."""
    return type("ConfiguredGifFrameWriter", (GifFrameWriter,),
                {"gif_fps": float(fps), "gif_width": int(width), "src_fps": float(src_fps)})


def build_palette(frames: list[np.ndarray], colors: int = 256,
                  samples: int = PALETTE_SAMPLES) -> Image.Image:
    """ONE palette image (mode ``P``) for all ``frames``, from an even sample of them.

    The first and last frames are always in the sample; the sampled frames are stacked into one
    image and reduced with median cut.
    """
    if not frames:
        raise CnnanimError("no frames to build a GIF palette from")
    n = len(frames)
    idx = sorted(set(np.linspace(0, n - 1, min(n, samples)).round().astype(int).tolist()))
    stack = np.concatenate([frames[i] for i in idx], axis=0)
    return Image.fromarray(stack, "RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)


def _pack(rgb: np.ndarray) -> np.ndarray:
    a = rgb.astype(np.uint32)
    return (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]


class PaletteMapper:
    """Exact nearest palette colour (RGB distance) for every pixel, with a lazy 2^24 lookup table.

    Pillow's own mapping (``quantize(palette=...)``) looks colours up in 4x4x4 boxes, so pure
    white can come out as (252, 252, 252): every pixel off by a few levels. Here each distinct
    colour is matched once against the whole palette and remembered.
    """

    def __init__(self, palette_rgb: np.ndarray) -> None:
        self.palette = np.asarray(palette_rgb, np.float32).reshape(-1, 3)
        self._norms = (self.palette ** 2).sum(axis=1)
        self._lut = np.zeros(1 << 24, np.uint8)
        self._known = np.zeros(1 << 24, bool)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Palette indices (H, W) of an RGB frame."""
        keys = _pack(rgb).ravel()
        new = np.unique(keys[~self._known[keys]])
        for s in range(0, len(new), 8192):
            chunk = new[s:s + 8192]
            cols = np.stack([(chunk >> 16) & 255, (chunk >> 8) & 255, chunk & 255],
                            axis=1).astype(np.float32)
            # |c - p|^2 = |c|^2 - 2 c.p + |p|^2, and |c|^2 does not change the argmin
            self._lut[chunk] = (self._norms[None, :] - 2 * cols @ self.palette.T).argmin(axis=1)
        self._known[new] = True
        return self._lut[keys].reshape(rgb.shape[:2])


def quantize_frames(frames: list[np.ndarray], palette: Image.Image,
                    dither: bool = False) -> list[Image.Image]:
    """Map every frame to ``palette``.

    No dithering (default): the exact nearest colour, so flat colours stay flat and true.
    ``dither``: Pillow's Floyd-Steinberg error diffusion.
    """
    if dither:
        fs = Image.Dither.FLOYDSTEINBERG
        return [Image.fromarray(f, "RGB").quantize(palette=palette, dither=fs) for f in frames]
    pal = palette.getpalette() or []
    n = len(pal) // 3
    mapper = PaletteMapper(np.array(pal[:3 * n]).reshape(n, 3))
    out = []
    for f in frames:
        im = Image.fromarray(mapper(f), "P")
        im.putpalette(pal[:3 * n])
        out.append(im)
    return out


def encode_gif(gif: GifFrames, path: str | os.PathLike, *, dither: bool = False,
               colors: int = 256, loop: bool = True) -> Path:
    """Write ``gif`` as a GIF with one global palette, looping forever unless ``loop`` is False
    (then it plays once); atomic (temp file + rename)."""
    path = Path(path)
    if not gif.frames:
        raise CnnanimError("the animation has no frames")
    palette = build_palette(gif.frames, colors=colors)
    images = quantize_frames(gif.frames, palette, dither=dither)

    def write(f) -> None:
        # palette=: Pillow writes it once as the global colour table (without it every
        # later frame gets its own copy); optimize: unchanged pixels become transparent.
        # no loop=: no NETSCAPE block, the GIF plays once
        repeat = {"loop": 0} if loop else {}
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                       duration=list(gif.durations), disposal=1, optimize=True,
                       palette=bytes(images[0].getpalette()), **repeat)

    return atomic_write(path, write)


def count_frames(path: str | os.PathLike) -> int:
    """Frames stored in a GIF file (Pillow merges identical neighbours when saving)."""
    with Image.open(path) as im:
        return int(getattr(im, "n_frames", 1))


def format_size(n_bytes: int) -> str:
    """``"734 KB"`` / ``"1.4 MB"``."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n_bytes / 1024))} KB"


# -- part of a scene, loops, and the other animation formats ------------------------------------
class WindowFrameWriter(GifFrameWriter):
    """A :class:`GifFrameWriter` that keeps only source frames inside ``windows`` and crops them.

    The scene tells it the index of the next source frame with :meth:`seek` (frames outside
    the window are never rendered, see :mod:`cnnanim.output.partial`). ``joins`` lists the
    output frames (indices into the sampler's frames) where a later window starts: the
    animation jumps there.
    """

    windows: tuple[tuple[int, int], ...] = ()
    crop: tuple[int, int, int, int] | None = None

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.sampler = FrameSampler(self.src_fps, self.gif_fps, self.gif_width, crop=self.crop)
        self.frame_index = 0
        self.joins: list[int] = []

    def seek(self, index: int) -> None:
        """The next frame written is source frame ``index``."""
        self.frame_index = int(index)

    def write_frame(self, pixels, *, repeat: int = 1) -> None:
        a = self.frame_index
        b = a + max(0, int(repeat))
        self.frame_index = b
        self.frame_count += repeat
        for lo, hi in self.windows:
            n = min(b, hi) - max(a, lo)
            if n > 0:
                k = self.sampler.next_k
                self.sampler.add(pixels, n)
                if a <= lo and k > 0 and self.sampler.starts[-1] == k:  # a new frame: a jump
                    self.joins.append(len(self.sampler.frames) - 1)


def window_writer_class(fps: float, width: int, src_fps: float, windows,
                        crop: tuple[int, int, int, int] | None = None) -> type[WindowFrameWriter]:
    """A :class:`WindowFrameWriter` subclass for these settings."""
    return type("ConfiguredWindowFrameWriter", (WindowFrameWriter,),
                {"gif_fps": float(fps), "gif_width": int(width), "src_fps": float(src_fps),
                 "windows": tuple((int(a), int(b)) for a, b in windows), "crop": crop})


#: A looping figure holds its last frame this long, then cross-fades back to its first frame.
LOOP_HOLD_MS = 1200
LOOP_FADE_MS = 500


def _blend(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return np.round(a.astype(np.float32) * (1 - t) + b.astype(np.float32) * t).astype(np.uint8)


def _fade_durations(n: int, fps: float) -> list[int]:
    """``n`` frame durations at ``fps`` in whole centiseconds, without drift."""
    t = [int(round(k * 100 / fps)) * 10 for k in range(n + 1)]
    return [max(10, b - a) for a, b in zip(t[:-1], t[1:])]


def crossfade(a: np.ndarray, b: np.ndarray, fps: float, ms: int = LOOP_FADE_MS) -> GifFrames:
    """The frames strictly between ``a`` and ``b`` of a cross-fade lasting about ``ms``."""
    n = max(1, int(round(ms * fps / 1000)))
    return GifFrames([_blend(a, b, i / (n + 1)) for i in range(1, n + 1)], _fade_durations(n, fps))


def join_frames(gif: GifFrames, joins, fps: float) -> GifFrames:
    """``gif`` with a short cross-fade before each frame index in ``joins`` (where it jumps)."""
    joins = set(joins)
    if not joins:
        return gif
    out = GifFrames()
    for i, (f, d) in enumerate(zip(gif.frames, gif.durations)):
        if i and i in joins:
            fade = crossfade(gif.frames[i - 1], f, fps, LOOP_FADE_MS // 2)
            out.frames += fade.frames
            out.durations += fade.durations
        out.frames.append(f)
        out.durations.append(d)
    return out


def loop_frames(gif: GifFrames, fps: float, once: bool = False, hold_ms: int = LOOP_HOLD_MS,
                fade_ms: int = LOOP_FADE_MS) -> GifFrames:
    """A loop that looks intended: the last frame held ``hold_ms``, then (unless ``once``) a
    cross-fade of about ``fade_ms`` back to the first frame, so the restart never jumps."""
    if not gif.frames:
        raise CnnanimError("the animation has no frames")
    out = GifFrames(list(gif.frames), list(gif.durations))
    out.durations[-1] += int(round(hold_ms / 10)) * 10
    if not once and not np.array_equal(out.frames[-1], out.frames[0]):
        fade = crossfade(out.frames[-1], out.frames[0], fps, fade_ms)
        out.frames += fade.frames
        out.durations += fade.durations
    return out


def encode_webp(gif: GifFrames, path: str | os.PathLike, *, loop: bool = True,
                lossless: bool = False, quality: int = 80) -> Path:
    """Write ``gif`` as an animated WebP (Pillow), looping forever unless ``loop`` is False."""
    if not gif.frames:
        raise CnnanimError("the animation has no frames")
    images = [Image.fromarray(f, "RGB") for f in gif.frames]

    def write(f) -> None:
        images[0].save(f, format="WEBP", save_all=True, append_images=images[1:],
                       duration=list(gif.durations), loop=0 if loop else 1, lossless=lossless,
                       quality=quality, method=4, allow_mixed=not lossless)

    return atomic_write(path, write)


#: Video codecs and their settings, by file extension (silent, yuv420p, web-friendly).
VIDEO_CODECS = {
    ".mp4": ("mp4", "libx264", {"crf": "23", "preset": "medium", "tune": "animation"},
             {"movflags": "+faststart"}),
    ".webm": ("webm", "libvpx-vp9", {"crf": "33", "b": "0", "deadline": "good", "cpu-used": "4",
                                     "row-mt": "1"}, {}),
}


def encode_video(gif: GifFrames, path: str | os.PathLike, fps: float) -> Path:
    """Write ``gif`` as a silent ``.mp4`` (H.264) or ``.webm`` (VP9) at ``fps``, atomically.

    Each distinct frame is repeated for its duration; odd sizes lose their last row or column
    (yuv420p needs even sizes).
    """
    import av

    path = Path(path)
    try:
        fmt, codec, options, container_options = VIDEO_CODECS[path.suffix.lower()]
    except KeyError:
        raise CnnanimError(f"no video codec for {path.suffix!r}; use .mp4 or .webm") from None
    if not gif.frames:
        raise CnnanimError("the animation has no frames")
    h, w = gif.frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    rate = int(round(fps))
    ends = np.round(np.cumsum(gif.durations) * rate / 1000).astype(int)

    with tempfile.TemporaryDirectory(prefix="video-", dir=scratch_dir()) as tmp:
        # by name: the muxer reopens the file to move the index to the front (faststart)
        name = os.path.join(tmp, "video" + path.suffix.lower())
        with av.open(name, mode="w", format=fmt, options=container_options) as out:
            stream = out.add_stream(codec, rate=rate, options=options)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            pts = 0
            for frame, end in zip(gif.frames, ends):
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:h, :w]), format="rgb24")
                vf = vf.reformat(format="yuv420p")
                for _ in range(max(1, end - pts)):  # shown for its duration, at least once
                    vf.pts = pts
                    for packet in stream.encode(vf):
                        out.mux(packet)
                    pts += 1
            for packet in stream.encode(None):
                out.mux(packet)
        return atomic_write(path, Path(name).read_bytes())


#: Animation formats by file extension.
ANIMATION_SUFFIXES = (".gif", ".webp", ".mp4", ".webm")


def encode_animation(gif: GifFrames, path: str | os.PathLike, fps: float, *, loop: bool = True,
                     dither: bool = False) -> Path:
    """Write ``gif`` in the format of ``path``'s extension (.gif, .webp, .mp4, .webm)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return encode_gif(gif, path, dither=dither, loop=loop)
    if suffix == ".webp":
        return encode_webp(gif, path, loop=loop)
    if suffix in VIDEO_CODECS:
        return encode_video(gif, path, fps)
    raise CnnanimError(f"unknown animation format {suffix or path!r}; "
                       f"use one of {', '.join(ANIMATION_SUFFIXES)}")
