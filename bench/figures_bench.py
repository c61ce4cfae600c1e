"""Article figure benchmark: the sliding beat's size and legibility, and the kit's render time.

Measures, with the default photo and weights:

* the sliding beat of ``conv-slide`` (``cnnanim gif conv-slide --beat sweep``) at its default
  width, as GIF and as WebP (the same frames), with the height of its smallest number;
* the kit's ``sliding`` figure (the same beat from its third animation, as ``cnnanim figures``
  renders it);
* the whole kit, ``cnnanim figures -o DIR -j 2``, in a fresh process: wall time, CPU seconds
  (process and its workers) and the load average before and after.

Targets (issue 16): sliding beat under 1 MB as GIF and under 400 KB as WebP with numbers at
least 10 px tall; the whole kit under 2 minutes on 2 cores. Prints a table and writes JSON.

Usage (from the repository root, in the project's virtualenv)::

    python bench/figures_bench.py                      # writes bench/results-figures.json
    python bench/figures_bench.py --no-kit -o /tmp/f.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIF_TARGET = 1024 * 1024
WEBP_TARGET = 400 * 1024
KIT_TARGET = 120.0


def sliding(folder: Path) -> list[dict]:
    """The sliding beat and the kit's sliding figure: sizes as GIF and WebP, number height."""
    from cnnanim.output import figures as F
    from cnnanim.output import gif as G

    rows = []
    tl = F.scene_timeline("conv-slide")
    kit = next(f for f in F.KIT if f.name == "sliding")
    part = F.kit_part(kit, tl)
    for label, options in (("conv-slide --beat sweep", {"beats": ["sweep"]}),
                           ("kit: sliding (sweep from its 3rd animation)", part)):
        t0 = time.perf_counter()
        r = F.render_figure("conv-slide", output=folder / "sliding.gif", **options)
        seconds = time.perf_counter() - t0
        webp = G.encode_animation(r.part.frames, folder / "sliding.webp", r.part.fps)
        rows.append({"figure": label, "width": r.width, "height": r.height,
                     "seconds": round(r.duration, 2), "number_px": round(float(r.number_px), 2),
                     "gif_bytes": r.size, "webp_bytes": webp.stat().st_size,
                     "render_s": round(seconds, 1)})
    return rows


def kit(folder: Path, jobs: int) -> dict:
    """Render the whole kit in a fresh process; wall and CPU time."""
    before = os.getloadavg()[0]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cnnanim = Path(sys.executable).with_name("cnnanim")  # the virtualenv's command
    proc = subprocess.run([str(cnnanim), "figures", "-o", str(folder), "-j", str(jobs)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"cnnanim figures failed: {proc.stderr.strip()}")
    cpu = (usage.ru_utime - usage0.ru_utime) + (usage.ru_stime - usage0.ru_stime)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".gif", ".webp", ".mp4", ".webm"))
    return {"jobs": jobs, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "figures": len(files), "bytes": sum(p.stat().st_size for p in files),
            "load_before": round(before, 2), "load_after": round(os.getloadavg()[0], 2),
            "cores": os.cpu_count()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="bench/results-figures.json")
    ap.add_argument("--no-kit", action="store_true", help="skip the whole-kit timing")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    result = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="cnnanim-figbench-") as tmp:
        result["sliding"] = sliding(Path(tmp))
        if not args.no_kit:
            (Path(tmp) / "kit").mkdir()
            result["kit"] = kit(Path(tmp) / "kit", args.jobs)

    print("| figure | size | length | numbers | GIF | WebP |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in result["sliding"]:
        print(f"| {r['figure']} | {r['width']}x{r['height']} | {r['seconds']:.1f} s | "
              f"{r['number_px']:.1f} px | {r['gif_bytes'] / 1024:.0f} KB | "
              f"{r['webp_bytes'] / 1024:.0f} KB |")
    beat = result["sliding"][0]
    verdicts = [("sliding beat GIF < 1 MB", beat["gif_bytes"] < GIF_TARGET),
                ("sliding beat WebP < 400 KB", beat["webp_bytes"] < WEBP_TARGET),
                ("numbers >= 10 px", beat["number_px"] >= 10)]
    if "kit" in result:
        k = result["kit"]
        print(f"\nkit: {k['figures']} figures, {k['bytes'] / 1024:.0f} KB, {k['wall_s']:.1f} s wall, "
              f"{k['cpu_s']:.1f} CPU s with -j {k['jobs']} on {k['cores']} cores "
              f"(load average {k['load_before']} before, {k['load_after']} after)")
        verdicts.append(("kit < 2 min wall", k["wall_s"] < KIT_TARGET))
        verdicts.append(("kit CPU / 2 cores < 2 min", k["cpu_s"] / 2 < KIT_TARGET))
    for name, ok in verdicts:
        print(f"{'met' if ok else 'NOT met'}: {name}")
    result["verdicts"] = dict(verdicts)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
