"""Time and peak memory of ``memrestore restore PHOTO --task TASK`` on a large photo, per packaged default.

    .venv/bin/python -m benchmarks.defaults_speed [--megapixels 12] [--tasks derain dehaze ...]

What a photographer runs, end to end: the command as installed (decoding, restoring with the default
settings, encoding a PNG), one fresh process per task, so its peak resident
memory (VmHWM: the whole process, Python and torch included) is that run's own. The photo is scikit-image's ``coffee``
resized to the requested size. Writes defaults_speed.{json,md} into --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from benchmarks.report import write_report
from memrestore.pretrained import model_cards

COMMAND = ".venv/bin/python -m benchmarks.defaults_speed"
CHILD = r"""
import json, sys, time
from memrestore.bench.report import peak_resident_gib
from memrestore.cli.main import main
start = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - start,
                  "peak_rss_gib": peak_resident_gib()}))
"""


def large_photo(path: Path, megapixels: float) -> tuple[int, int]:
    import skimage

    photo = Image.open(Path(skimage.__file__).parent / "data" / "coffee.png").convert("RGB")
    height = int((megapixels * 1e6 * photo.height / photo.width) ** 0.5)
    width = int(megapixels * 1e6 / height)
    photo.resize((width, height), Image.BICUBIC).save(path)
    return width, height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--tasks", nargs="+", default=None, help="default: every packaged task")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    tasks = args.tasks or list(model_cards())
    rows = []
    with tempfile.TemporaryDirectory() as work:
        photo = Path(work) / "photo.png"
        width, height = large_photo(photo, args.megapixels)
        for task in tasks:
            argv = ["restore", str(photo), "-o", str(Path(work) / task), "--task", task, "--device", "cpu"]
            done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{task}: restore failed: {done.stderr.strip().splitlines()[-1]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append({"task": task, "seconds": round(result["seconds"], 1), "peak_rss_gib": round(result["peak_rss_gib"], 2)})
            print(rows[-1], flush=True)
    results = {"command": COMMAND, "size": f"{width}x{height}", "machine": platform.processor() or platform.machine(),
               "rows": rows}
    lines = [f"`{COMMAND} --megapixels {args.megapixels:g}` ({width}x{height} PNG, `memrestore restore` as installed, "
             "default settings, one process per task, 2 CPU cores)", "",
             "| task | seconds | peak memory GiB |", "| --- | --- | --- |",
             *[f"| {r['task']} | {r['seconds']} | {r['peak_rss_gib']} |" for r in rows]]
    write_report(Path(args.out), "defaults_speed", results, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
