"""The lecture as slides for live teaching: one slide per narration beat, cut from one render.

::

    r = make_slides(lang="en", quality="l", voice="none", output="deck.html")
    r.path, r.files, len(r.slides), r.chapters

The kind of deck follows the output's name: ``.html`` (an offline deck: the player is inlined in
the page and the clips sit in the folder ``<name>_files/`` beside it), ``.pptx`` (one slide per
beat, its clip embedded, the narration in the notes, chapters as sections) or a folder (a
manim-slides presentation: ``manim-slides present --folder OUT CnnLecture``).

How the clips are cut: :func:`cnnanim.output.lecture.make_lecture` renders every part once and
joins them by copying video packets; the render records where each narration beat starts. Manim
encodes every ``play``/``wait`` as its own segment that opens with a key frame (IDR) and refers to
no frame before it, and a beat always starts where a ``play`` or ``wait`` starts, so every beat
start is a clean cut point: the clips are cut from the lecture by copying packets, without
re-encoding the picture. :func:`cut_clips` checks this for every cut and re-encodes the picture
only when a cut is not such a key frame. The soundtrack is cut to the sample and encoded as AAC
per clip. Everything is written into a temporary folder and moved into place at the end.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.files import atomic_write, media_dir
from cnnanim.output.lecture import AUDIO_RATE, CHAPTERS, TITLES, Chapter, LectureResult

#: Deck kinds by the output's suffix; anything without a suffix is a folder.
KINDS = {".html": "html", ".htm": "html", ".pptx": "pptx"}
#: Name of the presentation in a manim-slides folder (``manim-slides present --folder OUT NAME``).
PRESENTATION = "CnnLecture"
#: A file in every folder this module writes; a folder without it is never replaced.
MARKER = ".cnnanim-slides"
#: English Metric Units per pixel (PowerPoint).
EMU_PER_PIXEL = 9525


@dataclass
class Slide:
    """One narration beat of the lecture as a slide.

    Attributes
    ----------
    number : int
        1-based position in the deck.
    chapter : int
        0-based index of its chapter in :attr:`SlidesResult.chapters`.
    part, key : str
        The scene (or title card) and the beat's key in its narration table.
    notes : str
        The beat's narration (the speaker notes).
    start_frame, end_frame : int
        Frames of the lecture the slide plays, ``[start, end)``.
    clip : str
        File name of its clip.
    """

    number: int
    chapter: int
    part: str
    key: str
    notes: str
    start_frame: int
    end_frame: int
    clip: str = ""

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


@dataclass
class SlidesResult:
    """What :func:`make_slides` wrote.

    Attributes
    ----------
    path : Path
        The deck: the ``.html``, the ``.pptx`` or the folder.
    kind : str
        ``html``, ``pptx`` or ``folder``.
    files : list of Path
        Everything written, the deck first (the HTML's clip folder second).
    slides : list of Slide
    chapters : list of (title, first slide index)
    fps : float
        Frames per second of the clips.
    size : (int, int)
        Width and height of the clips in pixels.
    copied : bool
        True when the clips were cut by copying packets (no re-encoding of the picture).
    has_audio : bool
    seconds : float
        Wall-clock time.
    """

    path: Path
    kind: str
    files: list[Path] = field(default_factory=list)
    slides: list[Slide] = field(default_factory=list)
    chapters: list[tuple[str, int]] = field(default_factory=list)
    fps: float = 15.0
    size: tuple[int, int] = (854, 480)
    copied: bool = True
    has_audio: bool = False
    seconds: float = 0.0


# -- where things go --------------------------------------------------------------------------------
def deck_kind(output: str | os.PathLike) -> str:
    """``html``, ``pptx`` or ``folder`` for ``output`` (by its suffix; none: a folder)."""
    out = Path(output)
    if str(output).endswith(os.sep) or out.is_dir() or not out.suffix:
        return "folder"
    kind = KINDS.get(out.suffix.lower())
    if kind is None:
        raise CnnanimError(f"output {output} must end in .html or .pptx, or be a folder "
                           f"(a manim-slides presentation)")
    return kind


def assets_folder(html_path: Path) -> Path:
    """The folder of an HTML deck's clips: ``<name>_files`` beside it."""
    return html_path.with_name(html_path.stem + "_files")


def default_slides_output(lang: str, quality: str) -> Path:
    return media_dir() / f"slides-{lang}-{quality}.html"


def _ours_or_absent(folder: Path) -> None:
    """Refuse to replace a folder that this module did not write (unless it is empty)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise CnnanimError(f"{folder} exists and is not a folder")
    if (folder / MARKER).is_file() or not any(folder.iterdir()):
        return
    raise CnnanimError(f"{folder} exists and is not a deck written by 'cnnanim slides'; "
                       f"choose another output")


def check_output(output: Path, kind: str) -> None:
    """Fail before rendering when the deck could not be written to ``output``."""
    if kind != "folder" and output.is_dir():
        raise CnnanimError(f"output {output} is a folder")
    if kind == "folder":
        _ours_or_absent(output)
    elif kind == "html":
        _ours_or_absent(assets_folder(output))


def check_settings(lang: str, quality: str, voice: str | None, image, weights) -> None:
    """Fail before anything is created or rendered when a setting is wrong."""
    from cnnanim.network.trace_cache import get_trace
    from cnnanim.output.render import check_quality
    from cnnanim.speech.narration import check_lang
    from cnnanim.speech.voice import check_voice

    check_lang(lang)
    check_quality(quality)
    check_voice(voice)
    get_trace(image, weights)


def _swap_folder(new: Path, dest: Path, trash: Path) -> Callable[[], None]:
    """Move ``new`` to ``dest`` (an old ``dest`` goes to ``trash``); returns a function that undoes it."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix="old-", dir=trash)) / dest.name
        os.replace(dest, old)
    try:
        os.replace(new, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise

    def undo() -> None:
        shutil.rmtree(dest, ignore_errors=True)
        if old is not None:
            os.replace(old, dest)
    return undo


# -- slides from the beats ------------------------------------------------------------------------------
def plan_slides(lecture: LectureResult, fps: float) -> tuple[list[Slide], list[tuple[str, int]]]:
    """One slide per beat of every part, frames of the lecture; chapters as (title, first slide).

    A slide runs from its beat's start to the next beat's start, so whatever a scene plays
    between two beats (or after its last one) stays on the slide before it; the first slide of a
    part starts with the part.
    """
    slides: list[Slide] = []
    chapters: list[tuple[str, int]] = []
    keys: list[str] = []
    titles = [t for t, _, _ in lecture.chapters]
    for p in lecture.parts:
        if p.chapter not in keys:
            keys.append(p.chapter)
            chapters.append((titles[len(keys) - 1], len(slides)))
        first = int(round(p.start * fps))
        end = first + int(round(p.duration * fps))
        beats = p.beats or [(0.0, p.duration, p.name, "")]
        starts = [first] + [first + int(round(t0 * fps)) for t0, _, _, _ in beats[1:]]
        for k, (_, _, key, text) in enumerate(beats):
            stop = starts[k + 1] if k + 1 < len(beats) else end
            if stop <= starts[k]:
                continue  # a beat without frames (never in practice)
            slides.append(Slide(len(slides) + 1, len(keys) - 1, p.name, key, text,
                                starts[k], stop))
    for s in slides:
        s.clip = f"{s.number:03d}-{_slug(s.part)}-{_slug(s.key)}.mp4"
    return slides, chapters


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "part"


# -- cutting ------------------------------------------------------------------------------------------
class _Samples:
    """The soundtrack of a video as mono float32 at :data:`AUDIO_RATE`, read front to back."""

    def __init__(self, path: Path) -> None:
        import av

        self.container = av.open(str(path))
        self.frames = self.container.decode(self.container.streams.audio[0])
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        self.chunks: list[np.ndarray] = []
        self.have = 0
        self.done = False

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples (silence past the end)."""
        while self.have < n and not self.done:
            try:
                got = self.resampler.resample(next(self.frames))
            except StopIteration:
                self.done = True
                got = self.resampler.resample(None)
            for f in got:
                a = f.to_ndarray().reshape(-1)
                self.chunks.append(a)
                self.have += len(a)
        buf = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)
        out = np.zeros(n, np.float32)
        out[:min(n, len(buf))] = buf[:n]
        rest = buf[n:]
        self.chunks, self.have = ([rest] if len(rest) else []), len(rest)
        return out

    def close(self) -> None:
        self.container.close()


def _cut_points_are_clean(path: Path, cuts: Sequence[int], rate: Fraction) -> list[int] | None:
    """Packet indices (decode order) where each cut starts, or None when a cut is not clean.

    A cut at frame ``c`` is clean when a key frame shows frame ``c`` and every packet before it
    (in decode order) shows an earlier frame and every packet from it on a later one.
    """
    import av

    frames, keys = [], []
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        first = None
        for pkt in c.demux(v):
            if pkt.dts is None or pkt.pts is None:
                continue
            if first is None:
                first = pkt.pts
            frames.append(int(round((pkt.pts - first) * v.time_base * rate)))
            keys.append(bool(pkt.is_keyframe))
    if not frames:
        return None
    f = np.asarray(frames)
    before = np.maximum.accumulate(np.concatenate([[-1], f[:-1]]))   # max frame before packet i
    after = np.minimum.accumulate(f[::-1])[::-1]                      # min frame from packet i on
    where = {}
    for i in np.flatnonzero(np.asarray(keys)):
        if f[i] == after[i] and before[i] < f[i]:
            where.setdefault(int(f[i]), int(i))
    out = []
    for cut in cuts:
        if cut not in where:
            return None
        out.append(where[cut])
    return out


def _open_clip(path: Path, template, audio: bool, rate: Fraction, copy: bool):
    """An MP4 for one clip: (container, video stream, audio stream or None)."""
    import av

    dst = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
    if copy:
        vout = dst.add_stream_from_template(template=template)
    else:
        vout = dst.add_stream("libx264", rate=rate)
        vout.width, vout.height = template.codec_context.width, template.codec_context.height
        vout.pix_fmt = "yuv420p"
        vout.options = {"crf": "20"}
    aout = None
    if audio:
        aout = dst.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        aout.bit_rate = 128_000
    return dst, vout, aout


def _close_clip(dst, vout, aout, samples: np.ndarray | None, copy: bool) -> None:
    import av

    if not copy:
        for pkt in vout.encode(None):
            dst.mux(pkt)
    if aout is not None and samples is not None:
        af = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        af.sample_rate = AUDIO_RATE
        af.pts = 0
        af.time_base = Fraction(1, AUDIO_RATE)
        for pkt in aout.encode(af):
            dst.mux(pkt)
        for pkt in aout.encode(None):
            dst.mux(pkt)
    dst.close()


def cut_clips(video: Path, slides: Sequence[Slide], folder: Path, audio: bool) -> bool:
    """Write each slide's clip (``folder / slide.clip``) from the lecture ``video``.

    Returns True when the picture was copied packet for packet (every cut on a clean key
    frame), False when it had to be re-encoded. The sound (when ``audio``) is cut to the
    sample and encoded as AAC per clip.
    """
    import av

    with av.open(str(video)) as c:
        rate = Fraction(c.streams.video[0].base_rate)
    cuts = [s.start_frame for s in slides]
    starts = _cut_points_are_clean(video, cuts, rate)
    copy = starts is not None
    sound = _Samples(video) if audio else None
    bounds = [s.start_frame for s in slides] + [slides[-1].end_frame]
    try:
        with av.open(str(video)) as src:
            vin = src.streams.video[0]
            k, dst, vout, aout, offset = -1, None, None, None, 0

            def finish() -> None:
                nonlocal dst
                if dst is None:
                    return
                s = slides[k]
                samples = None
                if sound is not None:
                    a0 = int(round(Fraction(s.start_frame) / rate * AUDIO_RATE))
                    a1 = int(round(Fraction(s.end_frame) / rate * AUDIO_RATE))
                    samples = sound.read(a1 - a0)
                _close_clip(dst, vout, aout, samples, copy)
                dst = None

            if copy:
                index = 0
                for pkt in src.demux(vin):
                    if pkt.dts is None or pkt.pts is None:
                        continue
                    if k + 1 < len(slides) and index == starts[k + 1]:
                        finish()
                        k += 1
                        dst, vout, aout = _open_clip(folder / slides[k].clip, vin, audio, rate, True)
                        offset = pkt.pts
                    index += 1
                    if dst is None:
                        continue  # frames before the first slide (none in a lecture)
                    pkt.pts -= offset
                    pkt.dts -= offset
                    pkt.stream = vout
                    dst.mux(pkt)
            else:
                for n, frame in enumerate(src.decode(vin)):
                    if n >= bounds[-1]:
                        break
                    while k + 1 < len(slides) and n >= bounds[k + 1]:
                        finish()
                        k += 1
                        dst, vout, aout = _open_clip(folder / slides[k].clip, vin, audio, rate,
                                                     False)
                    img = frame.reformat(format="yuv420p")
                    img.pts = n - bounds[k]
                    img.time_base = 1 / rate
                    for pkt in vout.encode(img):
                        dst.mux(pkt)
            finish()
    finally:
        if sound is not None:
            sound.close()
    return copy


def first_frame_png(clip: Path) -> bytes:
    """The first frame of ``clip`` as PNG bytes (a PowerPoint poster frame)."""
    import io

    import av

    with av.open(str(clip)) as c:
        frame = next(c.decode(video=0))
        buf = io.BytesIO()
        frame.to_image().save(buf, format="PNG")
        return buf.getvalue()


# -- the three kinds of deck ---------------------------------------------------------------------------
def slide_title(s: Slide, chapters: Sequence[tuple[str, int]], words: int = 9) -> str:
    """A short title for menus: the chapter's title on a title card, else the narration's start."""
    if s.part.startswith("title-"):
        return chapters[s.chapter][0]
    text = s.notes.strip()
    if re.search(r"[\u3400-\u9fff]", text):
        return text[:24] + ("…" if len(text) > 24 else "")
    cut = text.split()
    return " ".join(cut[:words]) + (" …" if len(cut) > words else "")


def player_template() -> str:
    """The HTML player (``cnnanim/output/player.html``): inline CSS and JavaScript, no requests."""
    return (Path(__file__).with_name("player.html")).read_text(encoding="utf-8")


def deck_html(slides: Sequence[Slide], chapters: Sequence[tuple[str, int]], assets: str,
              title: str, lang: str, size: tuple[int, int], muted: bool) -> str:
    """The HTML deck: the player with one ``<section>`` per slide and the chapter menu."""
    e = html.escape
    sections, menu = [], []
    for s in slides:
        src = f"{assets}/{s.clip}"
        sections.append(
            f'<section class="slide" id="slide-{s.number}" data-chapter="{s.chapter}" '
            f'aria-label="{e(slide_title(s, chapters))}">'
            f'<video src="{e(src)}" preload="none" playsinline disablepictureinpicture '
            f'disableremoteplayback width="{size[0]}" height="{size[1]}"'
            f'{" muted" if muted else ""}></video>'
            f'<aside class="notes">{e(s.notes)}</aside></section>')
    for i, (ch_title, first) in enumerate(chapters):
        items = "".join(
            f'<li><a href="#/{s.number}" data-slide="{s.number}"><b>{s.number}</b> '
            f'{e(slide_title(s, chapters))}</a></li>' for s in slides if s.chapter == i)
        menu.append(f'<li class="chapter"><a class="chapter-title" href="#/{first + 1}">'
                    f'{i + 1}. {e(ch_title)}</a><ol>{items}</ol></li>')
    from cnnanim.draw import colors

    page = player_template()
    for key, value in (("LANG", "zh-Hans" if lang == "zh" else "en"), ("TITLE", e(title)),
                       ("BACKGROUND", colors.BACKGROUND), ("MENU", "".join(menu)),
                       ("SLIDES", "\n".join(sections)), ("COUNT", str(len(slides)))):
        page = page.replace("{{" + key + "}}", value)
    return page


def write_html(out: Path, slides: Sequence[Slide], chapters, clips: Path, tmp: Path,
               title: str, lang: str, size: tuple[int, int], audio: bool) -> list[Path]:
    """Move the clips to ``<name>_files/`` beside ``out``, then write the page (atomically)."""
    assets = assets_folder(out)
    (clips / MARKER).write_text("clips of the deck " + out.name + "\n", encoding="utf-8")
    page = deck_html(slides, chapters, assets.name, title, lang, size, muted=not audio)
    undo = _swap_folder(clips, assets, tmp)
    try:
        atomic_write(out, page)
    except BaseException:
        undo()
        raise
    return [out, assets]


def _sections_xml(prs, slide_ids: Sequence[int], chapters) -> None:
    """Chapters as PowerPoint sections (``p14:sectionLst`` in the presentation's ``extLst``)."""
    import uuid

    from lxml import etree
    from pptx.oxml.ns import qn

    p14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"
    root = prs.part._element
    ext_lst = root.find(qn("p:extLst"))
    if ext_lst is None:
        ext_lst = etree.SubElement(root, qn("p:extLst"))
    ext = etree.SubElement(ext_lst, qn("p:ext"), uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}")
    lst = etree.SubElement(ext, f"{{{p14}}}sectionLst", nsmap={"p14": p14})
    bounds = [first for _, first in chapters] + [len(slide_ids)]
    for (title, first), end in zip(chapters, bounds[1:]):
        sec = etree.SubElement(lst, f"{{{p14}}}section", name=title,
                               id="{" + str(uuid.uuid5(uuid.NAMESPACE_URL, title + str(first))).upper() + "}")
        ids = etree.SubElement(sec, f"{{{p14}}}sldIdLst")
        for sid in slide_ids[first:end]:
            etree.SubElement(ids, f"{{{p14}}}sldId", id=str(sid))


#: Slide timing that starts the video when the slide opens (PowerPoint's "Start: Automatically").
_AUTOPLAY = """<p:timing xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">
<p:tnLst><p:par><p:cTn id="1" dur="indefinite" restart="never" nodeType="tmRoot"><p:childTnLst>
<p:seq concurrent="1" nextAc="seek"><p:cTn id="2" dur="indefinite" nodeType="mainSeq"><p:childTnLst>
<p:par><p:cTn id="3" fill="hold"><p:stCondLst><p:cond delay="indefinite"/>
<p:cond evt="onBegin" delay="0"><p:tn val="2"/></p:cond></p:stCondLst><p:childTnLst>
<p:par><p:cTn id="4" fill="hold"><p:stCondLst><p:cond delay="0"/></p:stCondLst><p:childTnLst>
<p:par><p:cTn id="5" presetID="1" presetClass="mediacall" presetSubtype="0" fill="hold"
 nodeType="afterEffect"><p:stCondLst><p:cond delay="0"/></p:stCondLst><p:childTnLst>
<p:cmd type="call" cmd="playFrom(0.0)"><p:cBhvr><p:cTn id="6" dur="{ms}" fill="hold"/>
<p:tgtEl><p:spTgt spid="{spid}"/></p:tgtEl></p:cBhvr></p:cmd>
</p:childTnLst></p:cTn></p:par></p:childTnLst></p:cTn></p:par></p:childTnLst></p:cTn></p:par>
</p:childTnLst></p:cTn>
<p:prevCondLst><p:cond evt="onPrev" delay="0"><p:tgtEl><p:sldTgt/></p:tgtEl></p:cond></p:prevCondLst>
<p:nextCondLst><p:cond evt="onNext" delay="0"><p:tgtEl><p:sldTgt/></p:tgtEl></p:cond></p:nextCondLst>
</p:seq>
<p:video><p:cMediaNode vol="80000"><p:cTn id="7" fill="hold" display="0"><p:stCondLst>
<p:cond delay="indefinite"/></p:stCondLst></p:cTn><p:tgtEl><p:spTgt spid="{spid}"/></p:tgtEl>
</p:cMediaNode></p:video>
</p:childTnLst></p:cTn></p:par></p:tnLst></p:timing>"""


def write_pptx(out: Path, slides: Sequence[Slide], chapters, clips: Path, title: str,
               size: tuple[int, int], fps: float) -> list[Path]:
    """One PowerPoint slide per beat: its clip over the whole slide, playing when the slide
    opens, its first frame as poster, the narration as notes; chapters as sections."""
    import io

    from lxml import etree
    from pptx import Presentation
    from pptx.util import Emu

    prs = Presentation()
    prs.core_properties.title = title
    prs.slide_width, prs.slide_height = Emu(size[0] * EMU_PER_PIXEL), Emu(size[1] * EMU_PER_PIXEL)
    blank = prs.slide_layouts[6]
    ids = []
    for s in slides:
        slide = prs.slides.add_slide(blank)
        clip = clips / s.clip
        movie = slide.shapes.add_movie(str(clip), 0, 0, prs.slide_width, prs.slide_height,
                                       poster_frame_image=io.BytesIO(first_frame_png(clip)),
                                       mime_type="video/mp4")
        movie.name = f"Beat {s.number}: {s.part} / {s.key}"
        timing = slide._element.find("{http://schemas.openxmlformats.org/presentationml/2006/main}timing")
        new = etree.fromstring(_AUTOPLAY.replace("{spid}", str(movie.shape_id))
                               .replace("{ms}", str(int(round(s.frames / fps * 1000)))))
        timing.getparent().replace(timing, new)
        slide.notes_slide.notes_text_frame.text = s.notes
        ids.append(slide.slide_id)
    _sections_xml(prs, ids, chapters)
    atomic_write(out, lambda f: prs.save(f))
    return [out]


def presentation_config(slides: Sequence[Slide], folder_name: str, size: tuple[int, int]) -> dict:
    """The manim-slides presentation config (its ``PresentationConfig`` JSON).

    Paths are relative to the folder's parent, as manim-slides reads them. A narrated beat
    cannot be played backwards, so no reversed clips are made: ``rev_file`` is the clip itself.
    """
    from cnnanim.draw import colors

    out = []
    for s in slides:
        f = f"{folder_name}/files/{PRESENTATION}/{s.clip}"
        out.append({"file": f, "rev_file": f, "loop": False, "auto_next": False,
                    "playback_rate": 1.0, "reversed_playback_rate": 1.0, "notes": s.notes,
                    "dedent_notes": False, "skip_animations": False, "src": None})
    return {"slides": out, "resolution": list(size), "background_color": colors.BACKGROUND}


def write_folder(out: Path, slides: Sequence[Slide], chapters, clips: Path, tmp: Path,
                 size: tuple[int, int]) -> list[Path]:
    """A manim-slides presentation: ``OUT/CnnLecture.json`` and ``OUT/files/CnnLecture/*.mp4``."""
    deck = tmp / "deck"
    (deck / "files").mkdir(parents=True)
    os.replace(clips, deck / "files" / PRESENTATION)
    config = presentation_config(slides, out.name, size)
    (deck / f"{PRESENTATION}.json").write_text(json.dumps(config, ensure_ascii=False, indent=1),
                                               encoding="utf-8")
    lines = [f"Present with: manim-slides present --folder {out.name} {PRESENTATION}",
             "(run it in the folder that holds this one; needs manim-slides with a Qt binding)",
             "", "Chapters (first slide):"]
    lines += [f"{first + 1:4d}  {t}" for t, first in chapters]
    (deck / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")
    _swap_folder(deck, out, tmp)
    return [out]


# -- the command ------------------------------------------------------------------------------------
def count_parts(chapters: Sequence[Chapter], cards: bool = True) -> int:
    """Parts the lecture renders: each chapter's scenes that exist, plus its title card."""
    from cnnanim.output.lecture import plan

    planned, _ = plan(chapters)
    return sum(len(classes) + (1 if cards else 0) for _, classes in planned)


def make_slides(lang: str = "en", quality: str = "l", image=None, weights=None,
                voice: str | None = "auto", output: str | os.PathLike | None = None,
                chapters: Sequence[Chapter] = CHAPTERS, progress: bool | Callable = True,
                fast: bool = False, jobs: int | None = 1) -> SlidesResult:
    """Render the lecture once and write it as a deck: one slide per narration beat.

    Parameters
    ----------
    lang, quality, image, weights, voice, fast, jobs
        As for :func:`cnnanim.output.lecture.make_lecture` (``voice="none"``: silent slides).
    output : path, optional
        ``.html``, ``.pptx`` or a folder (a manim-slides presentation); default
        ``media/slides-<lang>-<quality>.html``.
    chapters : sequence of Chapter
        The storyboard (default: the whole lecture).
    progress : bool or callable
        A progress bar on stderr (or ``progress(done, what)``).
    """
    t_start = time.perf_counter()
    out = Path(output) if output is not None else default_slides_output(lang, quality)
    kind = deck_kind(out)
    if kind == "folder":
        out = Path(str(out).rstrip(os.sep) or ".")
        if out.resolve() == Path.cwd().resolve() or out.name in ("", ".", ".."):
            raise CnnanimError(f"output folder {output} must be a new folder, e.g. -o deck")
    check_output(out, kind)
    check_settings(lang, quality, voice, image, weights)
    from cnnanim.output.render import _make_folder, _remove_empty

    created = _make_folder(out.parent)
    try:
        return _make_slides(out, kind, lang, quality, image, weights, voice, chapters, progress,
                            fast, jobs, t_start)
    except BaseException:
        _remove_empty(created)
        raise


def _make_slides(out: Path, kind: str, lang: str, quality: str, image, weights, voice,
                 chapters, progress, fast: bool, jobs, t_start: float) -> SlidesResult:
    from cnnanim.output.lecture import make_lecture
    from cnnanim.output.progress import Progress

    n_parts = count_parts(chapters)
    total = n_parts + 3  # the parts, joining, cutting, writing the deck
    bar = progress if callable(progress) else (Progress(total, width=24) if progress else None)

    def lecture_progress(done: int, what: str) -> None:
        if bar and done <= n_parts:
            bar(done, what)

    try:
        tmp = Path(tempfile.mkdtemp(prefix=".cnnanim-slides-", dir=out.parent))
    except OSError as e:
        raise CnnanimError(f"cannot write to {out.parent}: {e.strerror or e}") from None
    try:
        lecture = make_lecture(lang=lang, quality=quality, image=image, weights=weights,
                               voice=voice, output=tmp / "lecture.mp4", chapters=chapters,
                               progress=lecture_progress if bar else False, fast=fast, jobs=jobs)
        import av

        with av.open(str(lecture.path)) as c:
            v = c.streams.video[0]
            fps = float(v.base_rate)
            size = (v.codec_context.width, v.codec_context.height)
        slides, chapter_list = plan_slides(lecture, fps)
        if bar:
            bar(n_parts + 1, f"cutting {len(slides)} slides")
        clips = tmp / "clips"
        clips.mkdir()
        copied = cut_clips(lecture.path, slides, clips, audio=lecture.has_audio)
        if bar:
            bar(n_parts + 2, f"writing the {kind} deck")
        title = TITLES.get(lang, TITLES["en"])
        if kind == "html":
            files = write_html(out, slides, chapter_list, clips, tmp, title, lang, size,
                               lecture.has_audio)
        elif kind == "pptx":
            files = write_pptx(out, slides, chapter_list, clips, title, size, fps)
        else:
            files = write_folder(out, slides, chapter_list, clips, tmp, size)
        if bar:
            bar(total, f"wrote {out}")
        return SlidesResult(out, kind, files, slides, chapter_list, fps, size, copied,
                            lecture.has_audio, time.perf_counter() - t_start)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
