"""The package's layout and its rules: layers, no import cycles, commands, scenes, words.

- numbers (``network``, ``explain``, ``speech``) never load manim; drawing (``draw``) never loads
  torch; ``cnnanim --help`` loads neither (each checked in a fresh interpreter);
- no import cycle between the package's modules;
- every command's ``--help`` ends with an example;
- every registered scene has its narration and on-screen words in English and Chinese (in the
  words file beside its module), and renders in both; every chapter of the lecture resolves to a scene;
- the colour scales' end points are CNN Explainer's.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnanim"


def _modules(folder: str) -> list[str]:
    return sorted(f"cnnanim.{folder}.{p.stem}" for p in (PACKAGE / folder).glob("*.py")
                  if p.stem != "__init__")


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = (code + "\nimport sys\n"
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(proc.stdout.split()[-1000:])


@pytest.mark.parametrize("module", _modules("network") + _modules("explain") + _modules("speech")
                         + ["cnnanim.files", "cnnanim.errors"])
def test_numeric_modules_never_load_manim(module):
    loaded = _loaded_after(f"import {module}")
    assert "manim" not in loaded, f"{module} loads manim"
    if not module.startswith("cnnanim.network"):
        assert "torch" not in loaded, f"{module} loads torch"


@pytest.mark.parametrize("module", _modules("draw"))
def test_drawing_modules_never_load_torch(module):
    assert "torch" not in _loaded_after(f"import {module}"), f"{module} loads torch"


def test_help_loads_neither_manim_nor_torch():
    loaded = _loaded_after("from cnnanim.cli import main\n"
                           "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert not {"manim", "torch"} & loaded


#: What each layer may import from the package (anywhere in a module, functions included).
ALLOWED = {"network": {"network", "errors", "files"}, "explain": {"explain", "errors", "files"},
           "speech": {"speech", "errors", "files"},
           "draw": {"draw", "explain", "errors", "files"}}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_what_lies_below(layer):
    for p in sorted((PACKAGE / layer).glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                parts = name.split(".")
                if parts[0] == "cnnanim" and len(parts) > 1:
                    assert parts[1] in ALLOWED[layer], f"{p.name} imports {name}"


def _imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports at its top level (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnnanim"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                          else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("cnnanim"))
    return found


def test_no_import_cycle_inside_the_package():
    graph = {}
    for p in PACKAGE.rglob("*.py"):
        rel = p.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        graph[name] = {m for m in _imports(p) if m != name}
    # a package's __init__ importing its own submodules is how commands register: not a cycle
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not d.startswith(name + ".")}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [n, d]))
            if d in graph and not state.get(d):
                visit(d, path + [n])
        state[n] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [])


def _commands():
    import click

    from cnnanim.cli import main

    out = []

    def walk(group, prefix):
        for name, cmd in sorted(group.commands.items()):
            out.append((f"{prefix} {name}".strip(), cmd))
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix} {name}")

    walk(main, "")
    return [("", main)] + out


def test_every_command_help_ends_with_an_example():
    from click.testing import CliRunner

    from cnnanim.cli import main

    commands = _commands()
    assert len(commands) >= 12
    for path, _ in commands:
        r = CliRunner().invoke(main, path.split() + ["--help"])
        assert r.exit_code == 0, (path, r.output)
        text = r.output
        assert "Example:" in text, f"'cnnanim {path} --help' has no example"
        example = text[text.index("Example:"):]
        assert "cnnanim" in example, path


def _scenes():
    from cnnanim.scenes.registry import all_scenes
    from cnnanim.scenes.title_card import TitleCard

    scenes = dict(all_scenes())
    scenes["title-card"] = TitleCard
    return scenes


def test_every_scene_speaks_and_labels_in_both_languages():
    from cnnanim.speech.narration import LANGUAGES

    assert set(LANGUAGES) == {"en", "zh"}
    for name, cls in _scenes().items():
        assert cls.NARRATION, name
        for table in ("NARRATION", "WORDS"):
            for key, texts in getattr(cls, table).items():
                assert set(texts) == set(LANGUAGES), (name, table, key)
                assert texts["en"].strip() and texts["zh"].strip(), (name, table, key)
                assert not re.search(r"[\u4e00-\u9fff]", texts["en"]), (name, table, key)


def test_every_words_file_belongs_to_its_scene_classes():
    """Each ``scenes/NAME.toml`` section names a class of ``NAME.py`` (a misspelt class would
    silently keep no words) or a group another section takes words from, and ships with the
    package."""
    import importlib

    from cnnanim.scenes.base import scene_words

    text = (PACKAGE.parent / "pyproject.toml").read_text()
    assert '"cnnanim.scenes" = ["*.toml"]' in text
    files = sorted((PACKAGE / "scenes").glob("*.toml"))
    assert files
    for path in files:
        module = importlib.import_module(f"cnnanim.scenes.{path.stem}")
        data = scene_words(str(path))
        groups = {g for section in data.values() for g in section.get("words_from", ())}
        for name, section in data.items():
            cls = getattr(module, name, None)
            if name in groups:
                continue
            assert isinstance(cls, type) and cls.__module__ == module.__name__, (path.name, name)
            for table in ("NARRATION", "FAIL_NARRATION"):
                if table in section:
                    assert getattr(cls, table) == section[table], (path.name, name, table)
            for key, texts in section.get("WORDS", {}).items():
                assert cls.WORDS[key] == texts, (path.name, name, key)


def test_words_files_merge_like_class_attributes(tmp_path, monkeypatch):
    """``WORDS`` add to the inherited ones (after ``words_from``), ``NARRATION`` replaces."""
    (tmp_path / "wordy_scene.py").write_text(
        "from cnnanim.scenes.base import CnnScene\n"
        "class A(CnnScene):\n    pass\n"
        "class B(A):\n    pass\n"
        "class C(A):\n    pass\n")
    (tmp_path / "wordy_scene.toml").write_text(
        '[shared]\nsize = { en = "size", zh = "大小" }\n'
        '[A.NARRATION]\none = { en = "One.", zh = "一。" }\n'
        '[A.WORDS]\ntitle = { en = "A", zh = "甲" }\n'
        '[B]\nwords_from = ["shared"]\n'
        '[B.NARRATION]\ntwo = { en = "Two.", zh = "二。" }\n'
        '[B.WORDS]\ntitle = { en = "B", zh = "乙" }\nmore = { en = "more", zh = "更多" }\n',
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import wordy_scene as w

    assert list(w.A.NARRATION) == ["one"] and list(w.B.NARRATION) == ["two"]
    assert w.B.WORDS == {"title": {"en": "B", "zh": "乙"}, "size": {"en": "size", "zh": "大小"},
                         "more": {"en": "more", "zh": "更多"}}
    assert list(w.B.WORDS) == ["title", "size", "more"]
    assert w.C.NARRATION is w.A.NARRATION and w.C.WORDS is w.A.WORDS


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_scene_renders_its_narration(lang, tmp_path):
    """Each scene's last frame in ``lang``, with every beat's text filled in (no ``{x}`` left)."""
    from manim import tempconfig

    from cnnanim.output.render import configure_scene
    from cnnanim.scenes.registry import all_scenes

    for name, cls in all_scenes().items():
        scene_cls = configure_scene(cls, lang=lang, voice="none")
        cfg = {"quality": "low_quality", "media_dir": str(tmp_path), "disable_caching": True,
               "progress_bar": "none", "verbosity": "ERROR", "format": "png",
               "write_to_movie": False, "save_last_frame": True, "output_file": name}
        with tempconfig(cfg):
            scene = scene_cls()
            scene.render()
        beats = [b for _, _, b in scene.beats]
        assert beats, name
        for b in beats:
            assert b.lang == lang and b.text.strip(), (name, b.key)
            assert not re.search(r"\{\w*\}", b.text), (name, b.key, b.text)
            if lang == "zh":
                assert re.search(r"[\u4e00-\u9fff]", b.text), (name, b.key, b.text)


def test_every_lecture_chapter_resolves_to_a_scene():
    from cnnanim.output.lecture import CHAPTERS
    from cnnanim.scenes.registry import all_scenes

    scenes = all_scenes()
    for ch in CHAPTERS:
        assert ch.scenes, ch.key
        for s in ch.scenes:
            assert (s if isinstance(s, str) else s.cli_name) in scenes, (ch.key, s)


def test_tests_import_scenes_one_way():
    here = Path(__file__).resolve().parent
    for p in here.glob("*.py"):
        if p.name == Path(__file__).name:
            continue
        text = p.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) scenes\b", text, re.M), p.name
        assert "cnnanim_scenes" not in text and "spec_from_file_location" not in text, p.name


def test_colour_scales_end_points():
    from cnnanim.draw import colors

    def rgb(h):
        return colors.hex_to_rgb(h)

    # activations: most negative red, zero white, most positive blue (RdBu)
    a = colors.activation_rgb(np.array([-2.0, 0.0, 2.0]))
    assert np.allclose(a[0], rgb(colors.RDBU[0])) and np.allclose(a[2], rgb(colors.RDBU[-1]))
    assert np.allclose(a[1], rgb(colors.RDBU[len(colors.RDBU) // 2]))
    assert a[0][0] > a[0][2] and a[2][2] > a[2][0]
    # weights: the weight scale's ends at -vmax and +vmax
    w = colors.weight_rgb(np.array([-1.0, 1.0]))
    assert np.allclose(w[0], rgb(colors.WEIGHT_NEG)) and np.allclose(w[1], rgb(colors.WEIGHT_POS))
    # logits: light orange for the smallest, dark orange for the largest
    lo, hi = colors.logit_rgb(np.array([-3.0, 5.0]))
    assert lo.sum() > hi.sum() and hi[0] > hi[2]
    # input channels: 0 and 1 of a grey channel are black and white
    g = colors.input_rgb(np.array([0.0, 1.0]))
    assert np.allclose(g[0], 0) and np.allclose(g[1], 1)


def test_cnnanim_cache_moves_every_cache(tmp_path):
    """With ``$CNNANIM_CACHE`` a narrated render writes traces, text and voice clips there and
    nothing under the home folder's cache."""
    import os

    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CNNANIM_") and k != "XDG_CACHE_HOME"}
    env.update(HOME=str(home), CNNANIM_CACHE=str(cache))
    proc = subprocess.run([sys.executable, "-m", "cnnanim", "render", "input", "-q", "l",
                           "--voice", "espeak", "-o", str(tmp_path / "out") + "/"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {p.name for p in cache.iterdir()} == {"traces", "text", "voice"}
    assert all(any((cache / k).iterdir()) for k in ("traces", "text", "voice"))
    assert list(home.rglob("*")) == []
