"""Slides for live teaching: one slide per narration beat, cut from one render of the lecture.

The decks are built from a short lecture (two chapters of light scenes, title cards included) at
-ql; the HTML deck is opened by Debian's chromium, headless, with every network request blocked.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import light_scene
from manim import Circle, Create, FadeIn, Square

from cnnanim.cli import main
from cnnanim.output.lecture import Chapter, LectureResult, Part, make_lecture
from cnnanim.output.slides import (
    MARKER,
    PRESENTATION,
    cut_clips,
    deck_kind,
    make_slides,
    plan_slides,
)


pytestmark = pytest.mark.usefixtures("voice_cache")  # never the user's voice cache

_Light = light_scene()  # no trace: these scenes show shapes only


class TwoBeats(_Light):
    NARRATION = {"square": {"en": "A square appears. It stands for one feature map.",
                            "zh": "出现一个正方形，它代表一张特征图。"},
                 "circle": {"en": "Then a circle is drawn around it.", "zh": "然后画出一个圆。"}}

    def construct(self) -> None:
        with self.beat("square") as b:
            self.play(FadeIn(Square()), run_time=b.part(0.33))
        with self.beat("circle") as b:
            self.play(Create(Circle()), run_time=b.part(0.47))


class OneBeat(_Light):
    NARRATION = {"dot": {"en": "A smaller square closes the lecture.", "zh": "一个小正方形结束讲座。"}}

    def construct(self) -> None:
        self.play(FadeIn(Square(0.5)), run_time=0.4)  # before the first beat: on its slide
        with self.beat("dot") as b:
            self.wait(b.part(0.2))


SHORT = (Chapter("first", {"en": "First", "zh": "第一部分"}, (TwoBeats,)),
         Chapter("second", {"en": "Second", "zh": "第二部分"}, (OneBeat,)))
#: (part, beat key) of every slide of SHORT, title cards included.
EXPECTED = [("title-first", "card"), ("TwoBeats", "square"), ("TwoBeats", "circle"),
            ("title-second", "card"), ("OneBeat", "dot")]
NOTES = ["Chapter 1: First.", TwoBeats.NARRATION["square"]["en"],
         TwoBeats.NARRATION["circle"]["en"], "Chapter 2: Second.", OneBeat.NARRATION["dot"]["en"]]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


# -- planning ---------------------------------------------------------------------------------------
def test_deck_kind(tmp_path):
    assert deck_kind("a/deck.html") == "html" and deck_kind("deck.HTM") == "html"
    assert deck_kind("deck.pptx") == "pptx"
    assert deck_kind("deck") == "folder" and deck_kind(tmp_path) == "folder"
    with pytest.raises(Exception, match=r"\.html or \.pptx"):
        deck_kind("deck.mp4")


def test_plan_slides_one_per_beat():
    parts = [Part("a", "title-a", Path("x"), None, 0.0, 2.0, [(0.0, 1.6, "card", "Chapter 1: A.")]),
             Part("a", "scene", Path("x"), None, 2.0, 5.0,
                  [(0.4, 2.0, "one", "One."), (2.0, 4.6, "two", "Two.")]),
             Part("b", "title-b", Path("x"), None, 7.0, 2.0, [(0.0, 1.6, "card", "Chapter 2: B.")])]
    lecture = LectureResult(Path("x"), Path("y"), [("A", 0.0, 7.0), ("B", 7.0, 9.0)], parts)
    slides, chapters = plan_slides(lecture, 15)
    assert [(s.part, s.key, s.notes) for s in slides] == [
        ("title-a", "card", "Chapter 1: A."), ("scene", "one", "One."), ("scene", "two", "Two."),
        ("title-b", "card", "Chapter 2: B.")]
    # a part's first slide starts with the part; a slide runs to the next beat or the part's end
    assert [(s.start_frame, s.end_frame) for s in slides] == [(0, 30), (30, 60), (60, 105),
                                                              (105, 135)]
    assert chapters == [("A", 0), ("B", 3)]
    assert [s.chapter for s in slides] == [0, 0, 0, 1]
    assert len({s.clip for s in slides}) == 4


# -- cutting --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def narrated_lecture(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture") / "lecture.mp4"
    return make_lecture(voice="espeak", output=out, chapters=SHORT, progress=False)


@pytest.mark.parametrize("copy", [True, False])
def test_cut_clips(narrated_lecture, tmp_path, monkeypatch, copy):
    """Beat starts are clean cut points: clips are copied packet for packet, pixel-identical
    to the lecture (or re-encoded when a cut is not clean), with the sound cut to match."""
    from cnnanim.output import slides as slides_mod

    lecture = narrated_lecture
    slides, _ = plan_slides(lecture, 15)
    assert [(s.part, s.key) for s in slides] == EXPECTED
    if not copy:
        monkeypatch.setattr(slides_mod, "_cut_points_are_clean", lambda *a: None)
    assert cut_clips(lecture.path, slides, tmp_path, audio=True) == copy
    whole = frames_of(lecture.path)
    assert slides[-1].end_frame == len(whole)
    for s in slides:
        clip = tmp_path / s.clip
        got = frames_of(clip)
        assert len(got) == s.frames
        diff = np.abs(got[0].astype(int) - whole[s.start_frame].astype(int))
        if copy:
            assert diff.max() == 0, s  # the same packets: the same pixels
            with av.open(str(clip)) as c:
                assert next(c.demux(video=0)).is_keyframe
        else:
            assert diff.mean() < 2.0
        with av.open(str(clip)) as c:
            a = c.streams.audio[0]
            assert abs(float(a.duration * a.time_base) - s.frames / 15) < 0.05
            x = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
        speech = x[:int(0.8 * 48000)].astype(np.float64)  # every beat is spoken from its start
        assert np.sqrt(np.mean(speech ** 2)) > 0.01, s


# -- the three decks (built once each, silent) ---------------------------------------------------------
@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    root = tmp_path_factory.mktemp("decks")
    out = {}
    for name in ("lecture.html", "lecture.pptx", "deck"):
        lines = []
        r = make_slides(voice="none", output=root / name.replace(".", "-") / name, chapters=SHORT,
                        progress=lambda done, what: lines.append(done))
        assert lines == list(range(len(lines))) and lines[-1] == 7  # 4 parts, join, cut, write
        out[r.kind] = r
    return out


def test_html_deck_files(decks):
    r = decks["html"]
    assets = r.path.with_name("lecture_files")
    assert r.files == [r.path, assets]
    assert [(s.part, s.key) for s in r.slides] == EXPECTED and r.copied and not r.has_audio
    assert sorted(p.name for p in r.path.parent.iterdir()) == ["lecture.html", "lecture_files"]
    assert sorted(p.name for p in assets.iterdir()) == sorted([s.clip for s in r.slides] + [MARKER])
    page = r.path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert page.count('<section class="slide"') == len(EXPECTED)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by its chromedriver; every remote request blocked."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromium-driver are missing: bash scripts/setup.sh --browser"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
              "--window-size=1920,1080", "--host-resolver-rules=MAP * ~NOTFOUND",
              "--disable-background-networking", "--disable-component-update", "--no-first-run",
              "--disable-sync", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setBlockedURLs",
                          {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        yield d
    finally:
        d.quit()


def wait_for(d, script: str, timeout: float = 20.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = d.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def requests_made(d) -> tuple[list[str], list[str]]:
    """(URLs requested, failures) from chromium's network log."""
    urls, failed = [], []
    for entry in d.get_log("performance"):
        m = json.loads(entry["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            urls.append(m["params"]["request"]["url"])
        elif m["method"] == "Network.loadingFailed":
            p = m["params"]
            if p.get("canceled"):  # the page stopped a clip's load itself (the slide changed
                continue           # before it finished loading on a busy machine): no failure
            failed.append(f"{p.get('errorText')} {p.get('blockedReason', '')} ({p.get('requestId')})")
    return urls, failed


def test_html_deck_in_a_browser(decks, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    r, d = decks["html"], browser
    d.get(r.path.as_uri())
    body = d.find_element(By.TAG_NAME, "body")
    # the first slide plays to its end, and stays there on its last frame
    assert d.execute_script("return cnnDeck.count") == len(EXPECTED)
    wait_for(d, "return cnnDeck.video().currentTime > 0")
    wait_for(d, "return cnnDeck.video().ended")
    state = d.execute_script("var v = cnnDeck.video(); return [cnnDeck.index(), v.paused, "
                             "v.currentTime, v.duration, v.videoWidth, v.videoHeight]")
    assert state[0] == 0 and state[1] is True
    assert state[2] == pytest.approx(state[3], abs=0.05)
    assert state[3] == pytest.approx(r.slides[0].frames / r.fps, abs=0.05)
    assert tuple(state[4:]) == r.size
    time.sleep(0.5)
    assert d.execute_script("return [cnnDeck.index(), cnnDeck.video().currentTime]")[0] == 0
    # the slide number and the video filling the window (16:9 at 1080p: no border, no controls)
    assert d.find_element(By.ID, "number").text == f"1 / {len(EXPECTED)}"
    box = d.execute_script("var b = cnnDeck.video().getBoundingClientRect(); "
                           "return [b.left, b.top, b.width, b.height, cnnDeck.video().controls]")
    assert box == [0, 0, 1920, 1080, False]
    # right arrow: the next slide, and its video starts
    body.send_keys(Keys.ARROW_RIGHT)
    wait_for(d, "return cnnDeck.index() === 1 && cnnDeck.video().currentTime > 0.2 "
                "&& !cnnDeck.video().paused")
    assert d.find_element(By.ID, "number").text == f"2 / {len(EXPECTED)}"
    assert d.execute_script("return cnnDeck.video(0).paused")
    # speaker notes: the beat's narration, in the page and in the speaker view
    assert d.execute_script("return cnnDeck.notes()") == NOTES[1]
    body.send_keys("n")
    assert d.find_element(By.CSS_SELECTOR, "#notes-panel .text").text == NOTES[1]
    main_window = d.current_window_handle
    body.send_keys("s")
    wait_for(d, "return true")
    t0 = time.monotonic()
    while len(d.window_handles) < 2 and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    speaker = [h for h in d.window_handles if h != main_window][0]
    d.switch_to.window(speaker)
    wait_for(d, "return document.getElementById('sp-notes').textContent.length > 0")
    assert d.find_element(By.ID, "sp-notes").text == NOTES[1]
    assert NOTES[2] in d.find_element(By.ID, "sp-next").text
    # keys in the speaker view drive the deck, and the view follows
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    wait_for(d, f"return document.getElementById('sp-notes').textContent === {json.dumps(NOTES[2])}")
    d.close()
    d.switch_to.window(main_window)
    assert d.execute_script("return cnnDeck.index()") == 2
    # the chapter menu jumps to a chapter
    body.send_keys("m")
    chapter2 = d.find_elements(By.CSS_SELECTOR, "#menu a.chapter-title")[1]
    assert chapter2.text == "2. Second"
    chapter2.click()
    wait_for(d, "return cnnDeck.index() === 3 && !cnnDeck.video().paused")
    assert not d.find_element(By.ID, "menu").is_displayed()
    # a click on the slide goes on
    d.find_element(By.ID, "stage").click()
    wait_for(d, "return cnnDeck.index() === 4")
    # nothing but the page and its clips was ever requested, and nothing failed
    urls, failed = requests_made(d)
    assert failed == []
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls
    assert any(u.endswith(r.slides[0].clip) for u in urls)
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_pptx_deck(decks):
    from pptx import Presentation

    r = decks["pptx"]
    assert r.files == [r.path] and sorted(p.name for p in r.path.parent.iterdir()) == ["lecture.pptx"]
    prs = Presentation(str(r.path))
    assert len(prs.slides) == len(EXPECTED)
    assert (prs.slide_width, prs.slide_height) == (854 * 9525, 480 * 9525)
    p_ns = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
    for slide, notes, s in zip(prs.slides, NOTES, r.slides):
        movies = [sh for sh in slide.shapes if sh.shape_type is not None and sh.shape_type == 16]
        assert len(movies) == 1, slide.shapes  # MSO_SHAPE_TYPE.MEDIA
        m = movies[0]
        assert (m.left, m.top, m.width, m.height) == (0, 0, prs.slide_width, prs.slide_height)
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text == notes
        video = [rel.target_part for rel in slide.part.rels.values()
                 if rel.reltype.endswith("/video")]
        assert len(video) == 1 and video[0].content_type == "video/mp4"
        timing = slide._element.find(f"{p_ns}timing")
        cmd = timing.find(f".//{p_ns}cmd")
        assert cmd.get("cmd") == "playFrom(0.0)"  # starts when the slide opens
        assert cmd.find(f".//{p_ns}spTgt").get("spid") == str(m.shape_id)
    # chapters are sections
    p14 = "{http://schemas.microsoft.com/office/powerpoint/2010/main}"
    sections = prs.part._element.findall(f".//{p14}section")
    assert [s.get("name") for s in sections] == ["First", "Second"]
    ids = [[int(x.get("id")) for x in s.iter(f"{p14}sldId")] for s in sections]
    assert ids == [[s.slide_id for s in list(prs.slides)[:3]], [s.slide_id for s in list(prs.slides)[3:]]]


def test_pptx_videos_are_the_clips(decks, tmp_path):
    """Each embedded video is a whole clip of its beat: its frames and its length."""
    from pptx import Presentation

    r = decks["pptx"]
    prs = Presentation(str(r.path))
    for slide, s in zip(prs.slides, r.slides):
        blob = [rel.target_part.blob for rel in slide.part.rels.values()
                if rel.reltype.endswith("/video")][0]
        f = tmp_path / f"{s.number}.mp4"
        f.write_bytes(blob)
        assert len(frames_of(f)) == s.frames


def test_manim_slides_folder(decks, monkeypatch):
    """`manim-slides present --folder deck CnnLecture` accepts it: its own config model loads it."""
    from manim_slides.config import PresentationConfig
    from manim_slides.present import get_scenes_presentation_config

    r = decks["folder"]
    assert r.files == [r.path] and r.path.is_dir()
    monkeypatch.chdir(r.path.parent)  # manim-slides reads paths relative to the folder's parent
    [config] = get_scenes_presentation_config([PRESENTATION], Path(r.path.name))
    assert isinstance(config, PresentationConfig)
    assert len(config.slides) == len(EXPECTED)
    assert [s.notes for s in config.slides] == NOTES
    assert tuple(config.resolution) == (854, 480)
    for s, slide in zip(config.slides, r.slides):
        assert s.file.is_file() and s.file.name == slide.clip and not s.loop and not s.auto_next
        assert len(frames_of(s.file)) == slide.frames
    # also from anywhere else, with the folder given by its path
    monkeypatch.chdir("/")
    cfg = PresentationConfig.from_file(r.path / f"{PRESENTATION}.json")
    assert all(s.file.is_file() for s in cfg.slides)


# -- the command ----------------------------------------------------------------------------------------
def test_slides_cli_help_and_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["slides", "--help"])
    assert r.exit_code == 0 and "--voice" in r.output and "--lang" in r.output
    text = r.output.split("Options:")[0].rstrip().splitlines()  # the text ends with examples
    start = max(i for i, ln in enumerate(text) if ln.strip() == "Example:")
    examples = [ln.strip() for ln in text[start + 1:]]
    assert examples and all(ln.startswith("cnnanim slides ") for ln in examples)
    # a kind of output that is not a deck
    r = runner.invoke(main, ["slides", "--voice", "none", "-o", str(tmp_path / "deck.mp4")])
    assert r.exit_code == 1 and r.output.startswith("Error:") and len(r.output.splitlines()) == 1
    # a folder that is not a deck is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    r = runner.invoke(main, ["slides", "--voice", "none", "-o", str(tmp_path / "mine")])
    assert r.exit_code == 1 and "not a deck" in r.output
    (tmp_path / "talk_files").mkdir()
    (tmp_path / "talk_files" / "photo.jpg").write_bytes(b"x")
    r = runner.invoke(main, ["slides", "--voice", "none", "-o", str(tmp_path / "talk.html")])
    assert r.exit_code == 1 and "talk_files" in r.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    # bad weights: one line, nothing written
    r = runner.invoke(main, ["slides", "--voice", "none", "-w", str(tmp_path / "nope.st"),
                             "-o", str(tmp_path / "out" / "d.pptx")])
    assert r.exit_code == 1 and r.output.startswith("Error:") and len(r.output.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_deck_replaces_its_old_self(tmp_path):
    """Writing a deck again swaps the old one out whole (its clips too), leaving nothing else."""
    from cnnanim.output.slides import Slide, write_folder, write_html

    slides = [Slide(1, 0, "p", "k", "Hello.", 0, 10, "001-p-k.mp4")]
    out = tmp_path / "out"
    out.mkdir()
    for n in (1, 2):
        for kind in ("html", "folder"):
            clips, tmp = tmp_path / f"clips-{kind}{n}", tmp_path / f"tmp-{kind}{n}"
            clips.mkdir()
            tmp.mkdir()
            (clips / "001-p-k.mp4").write_bytes(b"clip %d" % n)
            if kind == "html":
                write_html(out / "d.html", slides, [("A", 0)], clips, tmp, "T", "en", (854, 480),
                           False)
            else:
                write_folder(out / "deck", slides, [("A", 0)], clips, tmp, (854, 480))
    assert sorted(p.name for p in out.iterdir()) == ["d.html", "d_files", "deck"]
    assert (out / "d_files" / "001-p-k.mp4").read_bytes() == b"clip 2"
    assert (out / "deck" / "files" / PRESENTATION / "001-p-k.mp4").read_bytes() == b"clip 2"
    assert sorted(p.name for p in (out / "d_files").iterdir()) == [MARKER, "001-p-k.mp4"]


def test_interrupted_deck_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C while the deck is written: no deck, no clips, no temporary folder."""
    from cnnanim.output import slides as slides_mod

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(slides_mod, "cut_clips", interrupt)
    with pytest.raises(KeyboardInterrupt):
        make_slides(voice="none", output=tmp_path / "d.html", chapters=SHORT[1:], progress=False)
    assert list(tmp_path.iterdir()) == []
