"""Implementations of the sub-commands; each takes the parsed arguments and returns an exit status."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..errors import ConfigError, MemrestoreError

DEMO_REAL = "../shared/data/real"  # demo: the project's shared real pairs, beside a checkout


def run_train(args: argparse.Namespace) -> int:
    from ..recipes import load_config
    from ..engine.distributed import shutdown_distributed
    from ..engine.trainer import Trainer

    if (args.config is None) == (args.resume is None):
        raise MemrestoreError("give either a CONFIG file or --resume RUN_DIR")
    config_path = Path(args.resume) / "config.yaml" if args.resume else args.config
    if args.resume and not Path(config_path).is_file():
        raise MemrestoreError(f"{args.resume}: not a run folder (no config.yaml)")
    config = load_config(config_path, args.overrides)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("memrestore").setLevel(logging.INFO)  # datasets report what they found
    resume_dir = Path(args.resume) if args.resume else None
    if resume_dir and config.run_dir.resolve() != resume_dir.resolve():  # the run folder was moved
        config.output_dir, config.name = str(resume_dir.resolve().parent), resume_dir.name
    try:
        if args.init and args.resume:
            raise MemrestoreError("--init starts a new run from weights; it cannot be combined with --resume")
        trainer = Trainer(config, progress=not args.quiet, resume=bool(args.resume), overwrite=args.overwrite, init=args.init)
        run_dir = trainer.fit()
    finally:
        shutdown_distributed()
    if trainer.main:
        print(f"trained {config.model.name} for {trainer.step} steps: {run_dir / 'model.safetensors'}")
        print(" ".join(f"{k}={v}" for k, v in trainer.summary.items()))
    return 0


def run_models(args: argparse.Namespace) -> int:
    from ..metrics.table import format_table
    from ..pretrained import TASKS, model_cards, models_folder

    for flag, given in (("--local-pooling", args.local_pooling), ("--markdown", args.markdown)):
        if given and not args.check:  # checked before anything is read or printed
            raise ConfigError(f"{flag} shapes the re-scoring of the defaults, so it needs --check")
    cards = model_cards()
    def db(metrics: dict, key: str) -> str:  # a lab's own card may lack a number
        return f"{metrics[key]:.2f}" if isinstance(metrics.get(key), (int, float)) else "?"

    rows = []
    for task in TASKS:
        card = cards.get(task)
        scores = "; ".join(f"{name}: {db(m, 'psnr')} dB vs input {db(m, 'input_psnr')}"
                           + (f", peer {db(m, 'peer_psnr')}" if "peer_psnr" in m else "") + f" ({m.get('convention', '?')})"
                           for name, m in card.metrics.items()) if card else "-"
        rows.append([task, card.summary if card else "not packaged yet", scores])
    print(f"packaged models in {models_folder()}:")
    print(format_table(["task", "model", "real test sets"], rows, args.markdown))
    return check_models(cards, args.local_pooling, args.markdown) if args.check else 0


def check_models(cards: dict, local_pooling: int | None = None, markdown: bool = False) -> int:
    """Every card's numbers re-measured from its packaged weights on the test sets it records, beside
    the input's and the card's peer's (trained by the same recipe for the same CPU time; RESULTS.md's
    table of the defaults); with ``local_pooling``, also restoring with test-time local pooling,
    beside the plain restoration. ``markdown`` prints the table as Markdown."""
    from ..bench.package import score_card
    from ..inference import InferenceOptions
    from ..metrics.table import format_table

    options = InferenceOptions(local_pooling=local_pooling) if local_pooling else None
    header = ["task", "test set (pairs, convention)", "train min", "input PSNR", "card PSNR", "measured PSNR / SSIM",
              "gain", "peer", "peer PSNR", "default - peer", "reproduced"]
    if options:
        header += [f"local pooling {local_pooling}: PSNR / SSIM", "difference [95% CI] (pairs)"]
    rows, failures = [], 0
    for task, card in cards.items():
        if "tests" not in card.data:
            print(f"{task}: its card records no test sets (made before `memrestore bench package`); not checked")
            continue
        for row in score_card(card.checkpoint, card.data, Path("runs") / "bench" / "cards", options):
            failures += not row["reproduced"]
            rows.append([task, f"{row['test_set']} ({row['pairs']}, {row['convention']})",
                         f"{card.data.get('training', {}).get('train_minutes', '?')}", f"{row['input_psnr']:.2f}",
                         f"{row['card_psnr']:.2f}", f"{row['psnr']:.2f} / {row['ssim']:.3f}",
                         f"{row['psnr'] - row['input_psnr']:+.2f}",
                         card.data.get("peer", {}).get("method", "?"), f"{row['peer_psnr']:.2f}",
                         f"{row['psnr'] - row['peer_psnr']:+.2f}",
                         "yes" if row["reproduced"] else "NO"])
            if options:
                rows[-1] += [f"{row['options_psnr']:.2f} / {row['options_ssim']:.3f}", row["options_difference"]]
    if rows:
        print(format_table(header, rows, markdown))
    return 1 if failures else 0


def run_configs(args: argparse.Namespace) -> int:
    from ..recipes import resolve_recipe, shipped_recipes
    from ..metrics.table import format_table

    if args.name:
        print(resolve_recipe(args.name).read_text(encoding="utf-8"), end="")
        return 0
    print(format_table(["recipe", "what it trains"], [[name, about] for name, about in shipped_recipes().items()]))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from ..bench.suite import load_suite

    if args.what == "package" and not args.task:
        raise ConfigError("bench package needs --task (the task whose default the suite's model becomes)")
    suite = load_suite(args.suite, "speed" if args.what == "speed" else "quality")  # every config checked before work
    out = Path(args.out)
    if args.what == "speed":
        from ..bench.speed import run_speed

        command = " ".join(["memrestore bench speed", args.suite, "--sizes", *(f"{s:g}" for s in args.sizes),
                            "--rounds", str(args.rounds)])
        if args.variants != ["fp32"]:
            command += " --variants " + " ".join(args.variants)
        if args.max_memory:
            command += f" --max-memory {args.max_memory / 2**30:g}GB"
        name = run_speed(suite, out, command, args.sizes, args.rounds, variants=args.variants,
                         work=Path(args.work) if args.work else None, max_memory=args.max_memory)
        print((out / f"{name}.md").read_text(encoding="utf-8"))
        return 0
    work = Path(args.work or Path("runs") / "bench" / suite.name)
    if args.what == "package":
        from ..bench.package import package
        from ..pretrained import models_folder

        package(suite, args.suite, args.task, out, work, args.method)
        print((models_folder() / f"{args.task}.md").read_text(encoding="utf-8"))
        return 0
    from ..bench.quality import run_suite

    run_suite(suite, out, work, f"memrestore bench quality {args.suite}", report_only=args.report_only)
    print((out / f"{suite.name}.md").read_text(encoding="utf-8"))
    return 0


def collect_inputs(inputs: list[str]) -> list[Path]:
    """Expand files, folders (non-recursive) and glob patterns into image paths; unknown paths are errors."""
    import glob

    from ..io.images import is_image_file, list_images

    paths: list[Path] = []
    for text in inputs:
        item = Path(text)
        if not item.exists() and glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text) if is_image_file(Path(m)))
            if not matches:
                raise MemrestoreError(f"{text}: pattern matches no image files")
            paths.extend(matches)
        elif item.is_dir():
            found = list_images(item)
            if not found:
                raise MemrestoreError(f"{item}: no images found in folder")
            paths.extend(found)
        elif item.is_file():
            if not is_image_file(item):
                raise MemrestoreError(f"{item}: not an image file name (expected one of .png .jpg .bmp .tif .webp)")
            paths.append(item)
        else:
            raise MemrestoreError(f"{item}: no such file or folder")
    return paths


def _per_file(exc: MemrestoreError, *paths: Path) -> str:
    """A per-image failure as one line that names the image (or its output)."""
    message = str(exc)
    return message if any(str(p) in message for p in paths) else f"{paths[0]}: {message}"


def run_restore(args: argparse.Namespace) -> int:
    """Restore every input into ``-o``. A failure with one image (unreadable, too large, a model
    output that is not finite, a write that fails) is reported in one line and the batch goes on;
    outputs are created exclusively, so a file that another run wrote meanwhile is never replaced
    (unless ``--overwrite``). Exit status 1 if any image failed."""
    from tqdm import tqdm

    from ..api import DEFAULT_MEMORY_BUDGET, load
    from ..errors import OutputExistsError
    from ..io import ensure_dir
    from ..io.atomic import check_output_folder
    from ..io.images import DEFAULT_MAX_PIXELS

    paths = collect_inputs(args.inputs)
    names = [p.name for p in paths]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise MemrestoreError(f"{duplicate}: several inputs share this name and would write the same output")
    out_dir = check_output_folder(args.output)
    # a packaged model restores a 12 MP photo within 2 GiB out of the box; one's own models run whole unless asked
    budget = args.max_memory or (DEFAULT_MEMORY_BUDGET if args.task and not args.tile else None)
    restorer = load(args.checkpoint or args.task, device=args.device, tile=args.tile, overlap=args.overlap, tta=args.tta,
                    bf16=args.bf16, max_memory=budget, local_pooling=args.local_pooling)
    ensure_dir(out_dir)
    max_pixels = args.max_megapixels or DEFAULT_MAX_PIXELS
    failures, skipped = [], 0
    for path in tqdm(paths, desc="restore", unit="img"):
        target = out_dir / path.name
        try:
            if target.resolve() == path.resolve():
                raise MemrestoreError(f"{path}: output would overwrite the input; choose another -o folder")
            if target.exists() and args.skip_existing:
                skipped += 1
                continue
            if target.exists() and not args.overwrite:
                raise MemrestoreError(f"{target}: exists (use --overwrite to replace it or --skip-existing)")
            restorer.restore_file(path, target, max_pixels, overwrite=args.overwrite)
        except MemrestoreError as exc:
            if isinstance(exc, OutputExistsError) and args.skip_existing:  # another run restored it meanwhile
                skipped += 1
                continue
            failures.append(_per_file(exc, path, target))
            tqdm.write(f"memrestore: error: {failures[-1]}", file=sys.stderr)
    done = len(paths) - len(failures) - skipped
    print(f"restored {done} of {len(paths)} images into {out_dir}, {len(failures)} failed"
          + (f", {skipped} already done (skipped)" if skipped else ""))
    return 1 if failures else 0


def run_eval(args: argparse.Namespace) -> int:
    from ..io.atomic import check_output_file
    from ..metrics.folders import check_scoring, evaluate_folders, mean_row, score_columns, write_csv
    from ..metrics.noreference import NO_REFERENCE
    from ..metrics.table import format_table

    check_scoring(args.target, args.no_reference)  # before the CSV's default name, which depends on it
    if args.target is None and (args.layout or args.split):
        raise MemrestoreError("--layout and --split read the references of --target, which is missing")
    convention = args.convention if args.target is not None else "none"
    default_csv = f"metrics_{args.convention if args.target is not None else args.no_reference}.csv"
    csv_path = check_output_file(args.csv if args.csv else Path(args.pred) / default_csv)
    options = {"split": args.split} if args.split else {}
    if options and args.layout not in ("istd", "srd", "gopro"):
        raise MemrestoreError(f"--split applies to the istd, srd and gopro layouts, not {args.layout or 'plain folders'}")
    rows = evaluate_folders(args.pred, args.target, args.convention, args.crop_border, args.layout, args.no_reference,
                            **options)
    write_csv(csv_path, rows, convention)
    columns = score_columns(rows)
    mean = mean_row(rows)
    titles = {"psnr": "PSNR (dB)", "ssim": "SSIM", "mae_all": "LAB MAE all", "mae_non_shadow": "non-shadow", "mae_shadow": "shadow",
              **{name: measure.title for name, measure in NO_REFERENCE.items()}}
    table = [[r["name"], *(r[c] for c in columns)] for r in [*rows, mean]]
    if args.target is not None:
        print(f"convention: {args.convention} (crop_border={args.crop_border})")
    print(format_table(["image", *(titles.get(c, c) for c in columns)], table))
    if "total_mae_all" in mean:
        print("ISTD LAB MAE, per-pixel totals over the set: " + ", ".join(
            f"{region.replace('_', '-')} {mean[f'total_mae_{region}']:.2f}" for region in ("shadow", "non_shadow", "all")))
    print(f"per-image CSV: {csv_path}")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    from ..data.synth import synthesize_pairs
    from ..io.atomic import check_output_folder

    check_output_folder(args.output)
    count = synthesize_pairs(args.clean, args.output, args.task, args.preset, args.renderings, args.seed, args.preview,
                             depth_dir=args.depth, frames=args.frames, average=args.average)
    what = "frames in scene folders" if args.task == "timelapse" else "pairs (input/, target/)"
    print(f"{count} {what} in {args.output}" + (f"; preview: {Path(args.output) / 'preview.png'}" if args.preview else ""))
    return 0


def run_fit_preset(args: argparse.Namespace) -> int:
    from ..data.presets import fit_preset
    from ..metrics.table import format_table

    if args.widen < 0:
        raise MemrestoreError(f"--widen {args.widen}: must be 0 or more")
    document = fit_preset(args.real, args.task, args.output, args.match, args.layout, args.widen, crop=args.crop)
    estimates = document["estimates"]
    columns = list(next(iter(estimates.values())))
    print(format_table(["pair", *columns], [[name, *(float(e[k]) for k in columns)] for name, e in estimates.items()]))
    for name, entry in document["left_out"].items():
        print(f"left out {name}: {entry['why']}")
    print("fitted ranges: " + ", ".join(f"{k} {v[0]:g}-{v[1]:g}" if isinstance(v, list) else f"{k} {v}"
                                        for k, v in document["ranges"].items()))
    print(f"wrote {args.output} ({document['pairs']} pairs; `memrestore synth --task {args.task} --preset {args.output}`) "
          f"and {Path(args.output).with_suffix('.png')}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..api import load_model
    from ..export import export
    from ..io.atomic import check_output_file

    source = Path(args.checkpoint)
    stem = source / "model" if source.is_dir() else source.with_suffix("")
    output = check_output_file(args.output if args.output else stem.with_suffix(".onnx" if args.format == "onnx" else ".pt"))
    model, _, _ = load_model(args.checkpoint)
    worst = export(model, output, args.format)
    print(f"wrote {output} ({args.format}, dynamic height/width); max |diff| vs PyTorch on random images: {worst:.2e}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    import json

    from ..api import load_model
    from ..inference.tiling import receptive_field_radius
    from ..models.complexity import count_macs, count_parameters

    model, config, metadata = load_model(args.checkpoint)
    radius = receptive_field_radius(model)
    lines = [
        ("architecture", f"{config.model.name} {json.dumps(config.model.options)}"),
        ("parameters", f"{count_parameters(model):,} ({count_parameters(model) / 1e6:.3f} M)"),
        ("MACs at 256x256", f"{count_macs(model) / 1e9:.3f} G (Conv/Linear multiply-accumulates)"),
        ("receptive field", "whole image (global pooling)" if radius is None else f"radius {radius} px"),
        ("size multiple", str(getattr(model, "size_multiple", 1))),
    ]
    if "peer" in metadata:
        lines.append(("weights", f"released {metadata['peer']} weights ({metadata['source']}), architecture detected by spandrel"))
    else:
        lines += [("trained", f"{metadata.get('step', '?')} steps; losses "
                              + ", ".join(f"{l.weight} x {l.name}" for l in config.train.losses)),
                  ("training data", config.data.train.root or "-")]
    if metadata.get("unreadable_config"):
        lines.append(("note", f"config sections this version cannot read (shown at defaults): "
                              f"{', '.join(metadata['unreadable_config'])}"))
    metrics = metadata.get("metrics") or {}
    lines += [(key, str(value)) for key, value in metrics.items()]
    width = max(len(k) for k, _ in lines)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in lines))
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from ..api import load_model
    from ..inspect_memory import memory_maps, save_memory_figure
    from ..io import read_image, to_float_rgb

    model, config, _ = load_model(args.checkpoint)
    image = to_float_rgb(read_image(args.image))
    output = Path(args.output) if args.output else Path(f"{Path(args.image).stem}_memory.png")
    maps = memory_maps(model, image)
    save_memory_figure(image, maps, output, title=f"{config.model.name} memory on {Path(args.image).name}")
    print(f"memory map: {output}")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    from ..engine.plot import plot_run

    path = plot_run(Path(args.run_dir), Path(args.output) if args.output else None)
    print(f"curves: {path}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo, run_training_demo

    logging.basicConfig(level=logging.WARNING)
    if args.train:
        return run_training_demo(Path(args.out), overrides=args.overrides, progress=not args.quiet)
    if args.overrides:
        raise MemrestoreError("--set only applies to the training demo (memrestore demo --train)")
    if args.real and not Path(args.real).is_dir():
        raise MemrestoreError(f"{args.real}: --real folder not found")
    real = Path(args.real) if args.real else (Path(DEMO_REAL) if Path(DEMO_REAL).is_dir() else None)
    return run_demo(Path(args.out), real, args.tasks, strict=args.strict)


def run_app(args: argparse.Namespace) -> int:
    """Serve the web app until Ctrl-C; each --checkpoint is loaded once first, so a bad one is a
    one-line error before the server starts."""
    from ..api import load_model
    from ..app.ui import serve

    for checkpoint in args.checkpoints:
        load_model(checkpoint)
    app, url = serve(args.host, args.port, args.checkpoints, args.device, args.max_memory, args.max_megapixels)
    print(f"memrestore app: open {url} in a browser (Ctrl-C stops it)", flush=True)
    app.block_thread()
    return 0
