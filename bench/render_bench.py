"""Render-speed benchmark: every scene at -ql and -qh, the lecture, and the empty-scene floor.

Each render runs in its own process (so peak memory is that render's own). Prints a table of
video seconds, wall seconds, wall per video second, frames per second, peak memory and each
render's ratio to the empty-scene floor measured in the same run, and writes the numbers as JSON.

Usage (from the repository root, in the project's virtualenv)::

    python bench/render_bench.py                  # all scenes, -ql and -qh, plus the lecture
    python bench/render_bench.py -q l --no-lecture            # every scene at -ql only
    python bench/render_bench.py -q l --scenes input relu --no-lecture --vector-captions
    python bench/render_bench.py -q h --lecture-only --fast --jobs 2
    python bench/render_bench.py -q l --no-lecture --preview   # also `cnnanim preview` times
    python bench/render_bench.py -q l --no-lecture --weights mine.safetensors --label mine
    python bench/render_bench.py -q l --no-lecture --compare-hidden 64  # 10 vs 64 hidden units

Wall time depends on what else runs on the machine (the load average is printed and stored);
``cpu/vid`` (CPU seconds of the render per video second) is steadier on a shared machine.
Scenes and the lecture render captions-only (voice none) with the default photo and the
default weights, or ``--weights`` (named ``--label`` in the table and the JSON).
``--compare-hidden N`` renders every scene twice, one after the other: with those weights and
with a TinyVGG of the same shape but N hidden units (randomly initialised, seed 0, written to a
temporary file), and prints the ratio of the two per scene (target of issue 12: at most 1.3x).
``--repeat N`` renders everything N times, alternating, and keeps each one's fastest run.
``--vector-captions`` draws captions as vectors on every frame (the old way), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
kind, name, quality, out, fast, jobs, vector, weights = sys.argv[1:9]
fast, jobs, vector, weights = fast == "1", int(jobs), vector == "1", weights or None
if kind == "empty":
    from manim import Scene, tempconfig
    import os
    seconds = float(name)
    class Empty(Scene):
        def construct(self):
            self.wait(seconds)
    cfg = {"quality": {"l": "low_quality", "m": "medium_quality", "h": "high_quality",
                       "k": "fourk_quality"}[quality], "media_dir": os.path.dirname(out),
           "disable_caching": True, "progress_bar": "none", "verbosity": "ERROR",
           "output_file": "empty"}
    if fast:
        from cnnanim.output.render import fast_encoder_options
        cfg["video_encoder_options"] = fast_encoder_options()
    with tempconfig(cfg):
        Empty().render()
    path = next(p for p in __import__("pathlib").Path(os.path.dirname(out)).rglob("empty.mp4"))
elif kind == "lecture":
    from cnnanim.output.lecture import make_lecture
    if vector:
        from cnnanim.scenes.base import CnnScene
        CnnScene.raster_captions = False
    path = make_lecture(quality=quality, output=out, voice="none", progress=False, fast=fast,
                        jobs=jobs, weights=weights).path
elif kind == "preview":  # what `cnnanim preview NAME` does: fast encoder, 10 fps, a still
    from cnnanim.output.render import render_scene
    path = render_scene(name, quality=quality, output=out, voice="none", fast=True, fps=10,
                        still=True, weights=weights).path
else:
    from cnnanim.output.render import render_scene
    kw = {"raster_captions": False} if vector else {}
    path = render_scene(name, quality=quality, output=out, voice="none", fast=fast,
                        weights=weights, **kw).path
wall = time.perf_counter() - t0
import av
with av.open(str(path)) as c:
    v = c.streams.video[0]
    dur = float(v.duration * v.time_base) if v.duration else c.duration / 1e6
    frames = v.frames
ru_s, ru_c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ru_s.ru_utime + ru_s.ru_stime + ru_c.ru_utime + ru_c.ru_stime
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0  # largest process
print(json.dumps({"video_s": dur, "wall_s": wall, "cpu_s": cpu, "frames": frames,
                  "peak_mb": peak}))
"""


def run(kind: str, name: str, quality: str, fast: bool, tmp: Path, jobs: int = 1,
        vector: bool = False, weights: str | None = None, label: str = "") -> dict:
    """Render one thing (with ``weights``, None: the default) in a fresh process and return
    its measurements."""
    out = tmp / f"{kind}-{name}-{quality}{'-' + label if label else ''}.mp4"
    proc = subprocess.run([sys.executable, "-c", WORKER, kind, name, quality, str(out),
                           "1" if fast else "0", str(jobs), "1" if vector else "0",
                           weights or ""], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fastest(runs: list[dict]) -> dict:
    """The run with the least wall time (the least disturbed by other work), with every run's
    wall time when there were several; an error if any run failed."""
    bad = [r for r in runs if "error" in r]
    if bad:
        return bad[0]
    best = min(runs, key=lambda r: r["wall_s"])
    return {**best, "all_wall_s": [r["wall_s"] for r in runs]} if len(runs) > 1 else best


def make_wide_weights(hidden: int, base: str | None, path: Path, seed: int = 0) -> Path:
    """Write a TinyVGG with the architecture and classes of ``base`` (None: the default
    weights) but ``hidden`` hidden units, randomly initialised (torch's default, ``seed``)."""
    from dataclasses import replace

    import torch

    from cnnanim.network.images import describe_preprocessing
    from cnnanim.network.model import TinyVGG
    from cnnanim.network.presets import check_supported
    from cnnanim.network.weights import (
        WeightsInfo,
        read_weights,
        resolve_weights,
        save_weights,
        state_to_numpy,
    )

    _, info = read_weights(resolve_weights(base))
    arch = replace(info.to_preset(), name="custom", hidden_units=hidden)
    check_supported(arch, f"--compare-hidden {hidden}")
    torch.manual_seed(seed)
    model = TinyVGG.from_preset(arch)
    meta = WeightsInfo(preset="custom", class_names=list(arch.classes),
                       preprocessing=describe_preprocessing(arch),
                       source=f"bench/render_bench.py --compare-hidden {hidden} (untrained)",
                       extra={"init": f"torch default, torch.manual_seed({seed})"},
                       architecture=arch.architecture())
    return save_weights(path, state_to_numpy(model.state_dict()), meta)


def hidden_units_of(weights: str | None) -> int:
    """Hidden units of the TinyVGG in ``weights`` (None: the default weights)."""
    from cnnanim.network.weights import read_weights, resolve_weights

    return read_weights(resolve_weights(weights))[1].to_preset().hidden_units


def compare(rows: list[dict], base: str, wide: str) -> list[dict]:
    """Per scene and quality: the ``wide`` render's wall and CPU time over the ``base`` one's."""
    out = []
    by = {(r["what"], r["quality"], r.get("weights")): r for r in rows if "error" not in r}
    for (what, q, label), b in by.items():
        w = by.get((what, q, wide))
        if label != base or w is None or what.startswith("empty"):
            continue
        out.append({"what": what, "quality": q, "base_wall_s": b["wall_s"],
                    "wide_wall_s": w["wall_s"], "wall_ratio": w["wall_s"] / b["wall_s"],
                    "cpu_ratio": w["cpu_s"] / b["cpu_s"],
                    "video_ratio": w["video_s"] / b["video_s"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quality", "-q", action="append", choices=list("lmhk"),
                    help="qualities to measure (default: l and h)")
    ap.add_argument("--scenes", nargs="*", help="scene names (default: all)")
    ap.add_argument("--no-lecture", action="store_true", help="skip the whole lecture")
    ap.add_argument("--lecture-only", action="store_true", help="only the floor and the lecture")
    ap.add_argument("--preview", action="store_true",
                    help="also time `cnnanim preview` of every scene (-ql, 10 fps, ultrafast)")
    ap.add_argument("--fast", action="store_true", help="use the fast encoder preset")
    ap.add_argument("--jobs", "-j", type=int, default=1,
                    help="processes for the lecture's parts (default 1)")
    ap.add_argument("--vector-captions", action="store_true",
                    help="draw captions as vectors every frame (the old way, for comparison)")
    ap.add_argument("--weights", "-w", default=None,
                    help="weights to render with (a name or a .safetensors file; default: "
                         "cnnanim's default)")
    ap.add_argument("--label", default=None,
                    help="name of --weights in the table and the JSON (default: its file name)")
    ap.add_argument("--compare-hidden", type=int, default=None, metavar="N",
                    help="also render everything with an untrained TinyVGG of the same shape "
                         "but N hidden units, and print the ratio per scene")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="render everything N times and keep the fastest run (default 1)")
    ap.add_argument("--json", default="bench/results.json", help="where to write the results")
    args = ap.parse_args()
    qualities = args.quality or ["l", "h"]

    from cnnanim.scenes.registry import all_scenes

    scenes = [] if args.lecture_only else (args.scenes or list(all_scenes()))
    rows = []
    base = args.label or (Path(args.weights).stem if args.weights else "default")
    wide = None
    with tempfile.TemporaryDirectory(prefix="cnnanim-bench-") as d:
        tmp = Path(d)
        variants = [(base, args.weights)]
        if args.compare_hidden:
            base = f"{base} ({hidden_units_of(args.weights)} units)"
            wide = f"{args.compare_hidden} units"
            variants = [(base, args.weights),
                        (wide, str(make_wide_weights(args.compare_hidden, args.weights,
                                                     tmp / "wide.safetensors")))]
        floor = {}
        for q in qualities:
            m = run("empty", "10", q, args.fast, tmp)
            floor[q] = m.get("wall_s", float("nan")) / max(m.get("video_s", 10.0), 1e-9)
            rows.append({"what": "empty 10 s (floor)", "quality": q, **m})
        jobs = [("scene", s, q) for q in qualities for s in scenes]
        if args.preview:
            jobs += [("preview", s, "l") for s in scenes]
        if not args.no_lecture:
            jobs += [("lecture", "lecture", q) for q in qualities]
        for kind, name, q in jobs:
            runs: dict[int, list[dict]] = {}
            for _ in range(args.repeat):  # the variants alternate, so both see the same load
                for i, (label, weights) in enumerate(variants):
                    print(f"... {name} -q{q} {label}", file=sys.stderr, flush=True)
                    runs.setdefault(i, []).append(run(kind, name, q, args.fast, tmp, args.jobs,
                                                      args.vector_captions, weights, str(i)))
            what = {"lecture": f"lecture (-j {args.jobs})",
                    "preview": f"preview {name}"}.get(kind, name)
            for i, (label, _) in enumerate(variants):
                rows.append({"what": what, "quality": q, "weights": label,
                             **fastest(runs[i])})
    for r in rows:
        if "error" in r:
            continue
        r["wall_per_video_s"] = r["wall_s"] / r["video_s"] if r["video_s"] else float("nan")
        r["fps"] = r["frames"] / r["wall_s"] if r["wall_s"] else float("nan")
        r["ratio_to_floor"] = r["wall_per_video_s"] / floor[r["quality"]]
        r["cpu_per_video_s"] = r["cpu_s"] / r["video_s"] if r["video_s"] else float("nan")

    labelled = args.weights is not None or len(variants) > 1
    width = max([22] + [len(r["what"]) + 3 + len(r.get("weights", "")) for r in rows]
                if labelled else [22])

    def name(r: dict) -> str:
        return f"{r['what']} [{r['weights']}]" if labelled and "weights" in r else r["what"]

    head = (f"{'what':<{width}} {'q':>1} {'video s':>8} {'wall s':>8} {'wall/vid':>8} {'fps':>7} "
            f"{'peak MB':>8} {'x floor':>8} {'cpu/vid':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{name(r):<{width}} {r['quality']:>1}  ERROR {r['error']}")
            continue
        print(f"{name(r):<{width}} {r['quality']:>1} {r['video_s']:8.1f} {r['wall_s']:8.1f} "
              f"{r['wall_per_video_s']:8.3f} {r['fps']:7.1f} {r['peak_mb']:8.0f} {r['ratio_to_floor']:8.2f} "
              f"{r['cpu_per_video_s']:8.3f}")
    print(f"\nload average during the run (1, 5, 15 min): "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    ok = [r for r in rows if "error" not in r and not r["what"].startswith("empty")]
    for r in ok:
        if r["what"].startswith("preview"):
            verdict = "ok" if r["wall_s"] < 10 else "over"
            print(f"target preview < 10 s wall: {name(r)[8:]:<14} {r['wall_s']:.1f} s {verdict}")
        elif r["quality"] == "l" and not r["what"].startswith("lecture"):
            verdict = "ok" if r["wall_per_video_s"] <= 0.25 else "over"
            print(f"target -ql <= 0.25 s wall per video s: {name(r):<14} "
                  f"{r['wall_per_video_s']:.3f} {verdict}")
        if r["quality"] == "h" and r["what"].startswith("lecture"):
            verdict = "ok" if r["ratio_to_floor"] <= 1.5 else "over"
            print(f"target lecture -qh <= 1.5x floor: {r['ratio_to_floor']:.2f} {verdict}")
    if ok:
        peak = max(r["peak_mb"] for r in ok)
        print(f"target peak memory < 2048 MB: {peak:.0f} MB {'ok' if peak < 2048 else 'over'}")
    ratios = compare(rows, base, wide) if args.compare_hidden else []
    if ratios:
        print(f"\n{wide} against {base} (target: wall time at most 1.3x)")
        print(f"{'what':<22} {'q':>1} {'base s':>8} {'wide s':>8} {'wall x':>7} {'cpu x':>7} "
              f"{'video x':>7}")
        for c in ratios:
            verdict = "ok" if c["wall_ratio"] <= 1.3 else "over"
            print(f"{c['what']:<22} {c['quality']:>1} {c['base_wall_s']:8.1f} "
                  f"{c['wide_wall_s']:8.1f} {c['wall_ratio']:7.2f} {c['cpu_ratio']:7.2f} "
                  f"{c['video_ratio']:7.2f} {verdict}")
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "load_average": os.getloadavg(),
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "fast": args.fast,
              "jobs": args.jobs, "vector_captions": args.vector_captions, "repeat": args.repeat,
              "weights": ({base: args.weights or "default",
                           **({wide: "untrained, torch.manual_seed(0)"} if wide else {})}
                          if labelled else None),
              "rows": rows, "compare_hidden": ratios or None}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"\nresults written to {args.json}")


if __name__ == "__main__":
    main()
