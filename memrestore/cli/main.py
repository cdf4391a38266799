"""``memrestore`` console entry point: argument parsing and one-line error reporting.

Sub-commands import their heavy dependencies only when run, so ``memrestore --help`` is instant.
Expected mistakes (``MemrestoreError``: a bad path, config or image; a malformed or out-of-range
option) print one line naming the problem and exit with status 2; anything else is a bug and keeps
its traceback. Option values are checked here, by their argparse types, before any work starts.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import Interrupted, MemrestoreError
from ..bench import VARIANTS
from ..pretrained import TASKS
from .commands import DEMO_REAL


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _megapixels(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of megapixels, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return int(value * 1e6)


def _memory_size(text: str) -> int:
    from ..inference.budget import parse_bytes

    try:
        return parse_bytes(text)
    except MemrestoreError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


NON_NEGATIVE, POSITIVE = _integer(0), _integer(1)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model from a YAML config",
        description="Train a restoration model. The run folder (<output_dir>/<name>) receives config.yaml, "
        "log.jsonl, last/best/model.safetensors.",
    )
    p.add_argument("config", nargs="?", help="YAML config file, or the name of a shipped recipe such as "
                   "memorynet/derain_cpu (`memrestore configs` lists them); omit with --resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.iterations=500 (repeatable)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run exactly where its last checkpoint left it")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if the run folder holds a run")
    p.add_argument("--init", metavar="WEIGHTS", help="fine-tune from weights: a memrestore checkpoint, a .safetensors "
                   "state dict, or a peer project's .pth (loaded with weights_only=True)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the packaged default models with their model-card metrics",
        description="List the default model of each task shipped with memrestore (or in $MEMRESTORE_MODELS), "
        "with the metrics of its model card on real test sets.",
    )
    p.add_argument("--check", action="store_true",
                   help="re-score every default on the test sets its card records (they must be on disk) and "
                   "exit 1 if a card's PSNR is not reproduced")
    p.add_argument("--local-pooling", type=POSITIVE, metavar="PX", help="with --check, also score each default "
                   "restoring with local pooling for PX-pixel training crops (96 for the packaged defaults; see "
                   "restore --local-pooling) and its per-image difference to the plain restoration")
    p.add_argument("--markdown", action="store_true", help="with --check, print the table as Markdown "
                   "(RESULTS.md's table of the defaults)")


def _add_device_and_limits(p: argparse.ArgumentParser, memory_help: str) -> None:
    """--device, --max-memory and --max-megapixels, shared by the commands that restore photos."""
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:N")
    p.add_argument("--max-memory", type=_memory_size, metavar="SIZE", help=memory_help)
    p.add_argument("--max-megapixels", type=_megapixels, default=None, metavar="MP",
                   help="refuse larger images, checked before decoding (default 256)")


def _add_restore(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "restore",
        help="restore image files or folders with a trained checkpoint",
        description="Restore images. Outputs keep each input's name, format, bit depth and alpha. "
        "A bad file is reported and skipped; the exit status is non-zero if any failed.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders of images, or glob patterns")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for restored images")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--task", choices=TASKS, help="use the packaged default model of this task (`memrestore models`)")
    which.add_argument("--checkpoint", metavar="CKPT", help=".safetensors checkpoint, run folder, or a peer "
                       "project's released weights (.pth/.pt/.ckpt, read with weights_only=True; architecture detected by spandrel)")
    _add_device_and_limits(p, "memory budget, e.g. 2GB: picks the tile size automatically (default with --task: 2GB; "
                           "an image that fits is restored whole)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (inputs are never overwritten)")
    p.add_argument("--skip-existing", action="store_true", help="skip inputs whose output already exists")
    p.add_argument("--tile", type=int, default=0, metavar="PX", help="restore in tiles of PX x PX (0: whole image)")
    p.add_argument("--overlap", type=int, default=64, metavar="PX", help="overlap between tiles (default 64)")
    p.add_argument("--tta", action="store_true", help="average the 8 flips/rotations (8x slower, often +0.1-0.3 dB)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on recent CPUs/GPUs)")
    p.add_argument("--local-pooling", type=NON_NEGATIVE, default=0, metavar="PX",
                   help="the model's training crop side (96 for the packaged defaults): global average pools "
                   "become local means of the extent they had in training (TLC, Chu et al. 2022; 0: off)")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    from ..data.layouts import LAYOUTS
    from ..metrics import CONVENTIONS
    from ..metrics.noreference import NO_REFERENCE

    conventions = "; ".join(f"{c.name}: {c.description}" for c in CONVENTIONS.values())
    p = sub.add_parser(
        "eval",
        help="PSNR/SSIM over paired folders or a test set as distributed",
        description="Compare restored images with references matched by file name, or (--layout) with a test set "
        "in the folder layout it is distributed in, the restored files named like its degraded images. Sets with "
        f"shadow masks (istd) also get the ISTD LAB errors (shadow / non-shadow / all). Conventions: {conventions}.",
    )
    p.add_argument("--pred", required=True, metavar="DIR", help="restored images")
    p.add_argument("--target", metavar="DIR", help="reference (clean) images, or with --layout the test set's root "
                   "folder; without it the restored images are scored by --no-reference alone")
    p.add_argument("--layout", choices=sorted(LAYOUTS), help="read --target as a dataset in this layout "
                   "(rain: Rain100L/H, Rain12; raindrop; reside: SOTS; istd; gopro; ...)")
    p.add_argument("--split", metavar="NAME", help="the layout's split, where it has one (istd, srd, gopro; default test)")
    p.add_argument("--convention", default="rgb", choices=list(CONVENTIONS), help="metric convention (default rgb)")
    p.add_argument("--crop-border", type=NON_NEGATIVE, default=0, metavar="N", help="pixels removed from each side")
    p.add_argument("--no-reference", choices=sorted(NO_REFERENCE), metavar="MEASURE",
                   help=f"also score the restored images without a reference ({', '.join(sorted(NO_REFERENCE))}: "
                   "BRISQUE, lower is better; needs pip install 'memrestore[noref]')")
    p.add_argument("--csv", metavar="PATH", help="per-image CSV (default: <pred>/metrics_<convention>.csv, "
                   "or metrics_<measure>.csv without --target)")


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint to ONNX or TorchScript (dynamic height/width)",
        description="Export the final restoration of a checkpoint's model (input/output: N x 3 x H x W floats in "
        "[0, 1], any H and W) and check it against PyTorch on random images (max abs diff <= 1e-4).",
    )
    p.add_argument("checkpoint", metavar="CKPT", help=".safetensors checkpoint or run folder")
    p.add_argument("--format", required=True, choices=["onnx", "torchscript"])
    p.add_argument("-o", "--output", metavar="PATH", help="output file (default: next to the checkpoint)")


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="describe a checkpoint: architecture, size, cost, training config and metrics",
        description="Print the architecture, parameter count, MACs at 256x256 (Conv/Linear multiply-"
        "accumulates), receptive field, training settings and recorded metrics of a checkpoint.",
    )
    p.add_argument("checkpoint", metavar="CKPT", help=".safetensors checkpoint or run folder")


def _add_inspect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="visualise a model's internals (memory addressing)",
        description="inspect memory CKPT IMAGE: write a PNG with, per memory level, the arg-max memory item "
        "of every region and the usage histogram of the items.",
    )
    p.add_argument("what", choices=["memory"], help="what to inspect")
    p.add_argument("checkpoint", metavar="CKPT", help=".safetensors checkpoint or run folder")
    p.add_argument("image", metavar="IMAGE", help="an image file")
    p.add_argument("-o", "--output", metavar="PNG", help="output file (default <IMAGE stem>_memory.png)")


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="draw training curves of a run as PNG",
        description="Read RUN_DIR/log.jsonl and write RUN_DIR/curves.png (loss terms, learning rate, "
        "validation PSNR/SSIM).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a training run folder")
    p.add_argument("-o", "--output", metavar="PNG", help="output file (default RUN_DIR/curves.png)")


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="make a training set from clean photos (synthetic rain, raindrops, shadows, blur, haze, time-lapse)",
        description="Degrade every photo in --clean (and its sub-folders), reproducibly from --seed. Paired tasks "
        "write OUT/input, OUT/target and, for raindrop and deshadow, OUT/mask; timelapse writes OUT/<scene>/frame_NNN.png "
        "and OUT/<scene>/clean.png. Presets (--preset NAME, the first is the task's default; jorder, rain12, "
        "sots-fitted and qian were fitted to real pairs by fit-preset): derain light | heavy | jorder | rain12; "
        "raindrop default | qian; deshadow default; deblur gopro | linear-light; dehaze sots | light | sots-fitted; "
        "timelapse light | heavy | jorder | rain12.",
    )
    p.add_argument("--task", required=True, choices=["derain", "raindrop", "deshadow", "deblur", "dehaze", "timelapse"],
                   help="degradation to synthesise")
    p.add_argument("--clean", required=True, metavar="DIR", help="folder of clean photos")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    p.add_argument("--preset", default=None,
                   help="parameter ranges: a preset's name (default: the task's first) or a file from `memrestore fit-preset`")
    p.add_argument("--renderings", type=POSITIVE, default=1, help="degraded versions per photo (paired tasks)")
    p.add_argument("--frames", type=POSITIVE, default=12, help="frames per scene (timelapse)")
    p.add_argument("--depth", metavar="DIR", help="dehaze: depth maps STEM.npy or 16-bit STEM.png (else pseudo-depth)")
    p.add_argument("--average", type=NON_NEGATIVE, default=0, metavar="K",
                   help="deblur: photos are consecutive video frames; average windows of K (GoPro) instead of kernels")
    p.add_argument("--seed", type=NON_NEGATIVE, default=0)
    p.add_argument("--preview", action="store_true", help="also write OUT/preview.png (contact sheet)")


def _add_fit_preset(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit-preset",
        help="fit a synthetic degradation's parameter ranges to real pairs (for `synth --preset FILE`)",
        description="Measure each real pair in the renderer's units (rain: the rain layer's streak angle, length, "
        "width, density, intensity, veil; haze: airlight, far optical depth, near fraction; motion blur: per-tile "
        "kernels' length, residual noise, sRGB or linear light; raindrops: drop count and size from the detail they "
        "erase), fit the renderer's "
        "ranges to them, widened for domain randomisation, and write a preset file that "
        "`memrestore synth --preset FILE` renders from, with a PNG of measured beside rendered degradations.",
    )
    p.add_argument("real", metavar="DIR", help="real degraded/clean pairs (memrestore's input/ + target/, or --layout)")
    p.add_argument("--task", default="derain", choices=["derain", "timelapse", "dehaze", "deblur", "raindrop"],
                   help="renderer to fit: rain streaks (derain, timelapse), scattering haze (dehaze), motion blur "
                   "(deblur), raindrops (raindrop)")
    p.add_argument("-o", "--output", required=True, metavar="YAML", help="preset file to write (and YAML's .png)")
    p.add_argument("--match", metavar="GLOB", help="only pairs whose input file name matches, e.g. 'train-*'")
    p.add_argument("--layout", default="auto", help="dataset layout of DIR (default: auto)")
    p.add_argument("--widen", type=float, default=0.25,
                   help="widen each range by this fraction of its spread on each side (default 0.25)")
    p.add_argument("--crop", type=float, nargs=4, metavar=("LEFT", "TOP", "RIGHT", "BOTTOM"),
                   help="fit only this region of every pair, as fractions of its width and height (e.g. 0 0 0.5 1: "
                   "the left half, keeping the right half unseen for testing)")


def _add_configs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "configs",
        help="list the training recipes shipped with memrestore",
        description="List the recipes inside the package (train one with `memrestore train NAME`), or print one.",
    )
    p.add_argument("name", nargs="?", help="print this recipe's YAML (to copy and edit)")


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run a benchmark suite: methods under one budget on real test sets, or their speed",
        description="quality: train every method x seed of SUITE under the same budget (equal time or steps), "
        "score on the suite's real test sets, report mean +- std, paired differences to the baseline with 95% "
        "intervals, curves and a visual grid; finished runs are cached by config hash and interrupted ones "
        "resume. speed: the suite's models side by side (MP/s, train steps/s, MACs, peak memory). package: train "
        "as quality does, then store a method's first-seed weights (fp16) as a task's default in the models folder "
        "($MEMRESTORE_MODELS or the package's) with its model card, scored beside the input and the baseline as peer.",
    )
    p.add_argument("what", choices=["quality", "speed", "package"])
    p.add_argument("suite", metavar="SUITE.yaml", help="the suite (see benchmarks/suites/)")
    p.add_argument("--out", default="benchmarks/results", metavar="DIR", help="where reports go (default benchmarks/results)")
    p.add_argument("--work", metavar="DIR", help="run folders (default runs/bench/<suite name>; speed: of the recipe timings)")
    p.add_argument("--report-only", action="store_true", help="quality: report the finished runs, train nothing")
    p.add_argument("--sizes", type=float, nargs="*", default=[1.0, 4.0], metavar="MP",
                   help="speed: inference sizes in megapixels besides 512x512 (default 1 4)")
    p.add_argument("--rounds", type=POSITIVE, default=3, help="speed: interleaved rounds (default 3)")
    p.add_argument("--variants", nargs="+", default=["fp32"], choices=list(VARIANTS),
                   help="speed: every model also as bf16 autocast, channels-last or both (default fp32 only)")
    p.add_argument("--task", choices=TASKS, help="package: the task whose default the suite's model becomes")
    p.add_argument("--method", help="package: the method to package (default: the first besides the baseline, "
                   "which is the peer its card compares with; naming the baseline makes that first one the peer)")
    p.add_argument("--max-memory", type=_memory_size, metavar="SIZE",
                   help="speed: restore tiled to fit SIZE (e.g. 2GB) as `restore --max-memory` does, each model and "
                   "size in a fresh process (default: whole images, interleaved)")


def _add_app(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="restore photos in the browser (a local web app; needs pip install 'memrestore[app]')",
        description="Serve a web page to upload photos or a folder, restore them with a task's packaged model or "
        "a checkpoint, compare before/after with a slider and a zoomed crop, and download the results (same format "
        "and bit depth as uploaded) or a zip. Requests are queued and run one at a time. Binds to 127.0.0.1 "
        "unless --host says otherwise; works offline.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; "
                   "0.0.0.0 serves the local network)")
    p.add_argument("--port", type=_integer(1, 65535), default=7860, help="port (default 7860)")
    p.add_argument("--checkpoint", dest="checkpoints", action="append", default=[], metavar="CKPT",
                   help="also offer this checkpoint in the model menu (repeatable)")
    _add_device_and_limits(p, "memory budget per photo, e.g. 2GB (default 2GB): larger photos are restored in tiles")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="restore degraded photos of every task with the packaged models (no training); --train: the training demo",
        description="Restore degraded photos of every task with the packaged default models: real pairs from "
        "--real when present, else degradations rendered on photos that scikit-image ships. Prints PSNR/SSIM "
        "before and after and writes a before/after/target grid per task; --strict exits 1 if a task's PSNR "
        "drops. --train runs the training walk-through instead: synthetic rain -> train a small U-Net (~2 min) "
        "-> restore -> score.",
    )
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument("--real", metavar="DIR", help="folder of real pair sets (derain-Rain12/, raindrop/, "
                   f"dehaze-SOTS-indoor/, deblur-GoPro/, timelapse-GTRAIN/); default {DEMO_REAL} when it exists")
    p.add_argument("--task", dest="tasks", action="append", choices=TASKS, metavar="TASK",
                   help="only this task (repeatable; default every task with a packaged model)")
    p.add_argument("--strict", action="store_true", help="exit 1 if restoration lowers the PSNR of any task")
    p.add_argument("--train", action="store_true", help="the training demo instead (synthetic rain, ~2 min on CPU)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="--train: override the demo config, e.g. --set train.iterations=100")
    p.add_argument("--quiet", action="store_true", help="--train: no progress bar")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = OneLineParser(
        prog="memrestore",
        description="Memory-augmented image restoration: train, restore, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"memrestore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_train, _add_restore, _add_eval, _add_synth, _add_fit_preset, _add_export, _add_info, _add_inspect, _add_plot, _add_configs,
                _add_models, _add_bench, _add_demo, _add_app):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # A file name that is not valid UTF-8 is printed as its own bytes (as ls does), not a traceback.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        args = build_parser().parse_args(argv)
        from . import commands

        return getattr(commands, f"run_{args.command.replace('-', '_')}")(args)
    except Interrupted as exc:
        print(f"memrestore: {exc}", file=sys.stderr)
        return 130
    except MemrestoreError as exc:
        print(f"memrestore: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memrestore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
