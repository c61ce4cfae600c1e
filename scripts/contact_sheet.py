#!/usr/bin/env python3
"""Contact sheets of a rendered video, to look at a whole lecture at once.

    python scripts/contact_sheet.py media/lecture-en-h.mp4 --every 4 -o sheets/en
        -> sheets/en-every-4s-01.png ... (a frame every 4 s, 6 x 6 per sheet, time under each)
    python scripts/contact_sheet.py media/lecture-en-h.mp4 --captions -o sheets/en
        -> sheets/en-captions-01.png ... (a frame 0.3 s after each caption of the .srt starts)

Frames are decoded with PyAV (installed with Manim) and tiled with Pillow.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import av
import srt
from PIL import Image, ImageDraw, ImageFont


def frames_at(video: Path, times: list[float], width: int) -> list[Image.Image]:
    """The frames shown at ``times`` (seconds), scaled to ``width`` pixels.

    Every frame is decoded (no seeking: a frame is exactly the one on screen at that time) but
    only the wanted ones are converted to pictures.
    """
    def picture(frame: av.VideoFrame) -> Image.Image:
        height = round(frame.height * width / frame.width)
        return frame.to_image().resize((width, height), Image.BILINEAR)

    out: list[Image.Image] = []
    wanted = sorted(times)
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        k = 0
        last = None
        for frame in c.decode(stream):
            t = float(frame.pts * stream.time_base)
            if k < len(wanted) and t > wanted[k] + 1e-6:
                shown = picture(last if last is not None else frame)
                while k < len(wanted) and t > wanted[k] + 1e-6:
                    out.append(shown)
                    k += 1
            last = frame
            if k >= len(wanted):
                break
        while k < len(wanted) and last is not None:
            out.append(picture(last))
            k += 1
    return out


def label_font(size: int = 12) -> ImageFont.ImageFont:
    """A font for the labels that also draws Chinese captions (Noto Sans CJK, which Chinese
    lectures need anyway), else Pillow's default."""
    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                 "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def sheet(images: list[Image.Image], labels: list[str], cols: int) -> Image.Image:
    """Tile ``images`` with a label under each."""
    w, h = images[0].size
    font = label_font()
    rows = math.ceil(len(images) / cols)
    page = Image.new("RGB", (cols * (w + 8) + 8, rows * (h + 22) + 8), "#777777")
    draw = ImageDraw.Draw(page)
    for i, (im, text) in enumerate(zip(images, labels)):
        x, y = 8 + (i % cols) * (w + 8), 8 + (i // cols) * (h + 22)
        page.paste(im, (x, y))
        draw.text((x, y + h + 3), text, fill="white", font=font)
    return page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True, help="output prefix")
    ap.add_argument("--every", type=float, default=None, help="a frame every N seconds")
    ap.add_argument("--captions", action="store_true", help="a frame after each caption starts")
    ap.add_argument("--after", type=float, default=0.3, help="seconds after a caption starts")
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--width", type=int, default=480, help="width of each frame")
    args = ap.parse_args()
    with av.open(str(args.video)) as c:
        duration = float(c.duration / av.time_base)
    if args.captions:
        cues = list(srt.parse(args.video.with_suffix(".srt").read_text(encoding="utf-8")))
        times = [c.start.total_seconds() + args.after for c in cues]
        labels = [f"{t:.1f}s {c.content[:60]}" for t, c in zip(times, cues)]
        kind = "captions"
    else:
        step = args.every or 4.0
        times = [i * step for i in range(int(duration // step) + 1)]
        labels = [f"{t:.1f}s" for t in times]
        kind = f"every-{step:g}s"
    per = args.cols * args.rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    images = frames_at(args.video, times, args.width)
    for n in range(math.ceil(len(images) / per)):
        page = sheet(images[n * per:(n + 1) * per], labels[n * per:(n + 1) * per], args.cols)
        path = Path(f"{args.out}-{kind}-{n + 1:02d}.png")
        page.save(path)
        print(path)


if __name__ == "__main__":
    main()
