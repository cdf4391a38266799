"""Bad input and faults, tried as a new user would: every expected mistake is one line naming the
file or key, with the right exit status and no traceback, and no input or earlier output is changed
or lost. One test per case (the numbers refer to the reliability issue's list)."""

from __future__ import annotations

import errno
import json
import os
import pickle
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image, ImageCms
from safetensors.torch import save_file

import memrestore
from memrestore.checkpoint import FORMAT, save_checkpoint
from memrestore.cli.main import main
from memrestore.recipes import load_config
from memrestore.io import ImageData, read_image, write_image

from tests.helpers import run_cli, smooth_image


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    config = load_config(None, ["model.width=8", "model.depths=[1]", "model.middle=1"])
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "ckpt", memrestore.model_from_config(config.model), config, step=3)


@pytest.fixture
def photos(tmp_path: Path, rng: np.random.Generator) -> Path:
    folder = tmp_path / "photos"
    for name in ("a.png", "b.png"):
        write_image(folder / name, smooth_image(rng, 24, 32))
    return folder


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("memrestore")]


def assert_one_line(capsys, code: int, expected: int, *fragments: str) -> str:
    """``main`` returned ``expected`` and printed exactly one error line holding every fragment."""
    err = capsys.readouterr().err
    assert code == expected, err
    assert "Traceback" not in err
    lines = error_lines(err)
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def call(args: list[str]) -> int:
    """``main`` as the console script runs it: argparse's exit status counts as the return value."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- 1. two restore runs into one folder -----------------------------------------------------------
def test_output_created_by_another_run_meanwhile_is_not_replaced(tmp_path, checkpoint, photos, monkeypatch, capsys):
    out = tmp_path / "out"
    theirs = smooth_image(np.random.default_rng(7), 24, 32)
    original = memrestore.api.Restorer.restore_array

    def restore_while_another_run_writes(self, array):
        if not (out / "a.png").exists():  # the other run finishes a.png after our existence check
            write_image(out / "a.png", theirs)
        return original(self, array)

    monkeypatch.setattr(memrestore.api.Restorer, "restore_array", restore_while_another_run_writes)
    code = main(["restore", str(photos), "-o", str(out), "--checkpoint", str(checkpoint)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert error_lines(captured.err) == [f"memrestore: error: {out / 'a.png'}: exists (created meanwhile by another "
                                         "process?); not replaced"]
    assert "restored 1 of 2 images" in captured.out and "1 failed" in captured.out
    np.testing.assert_array_equal(read_image(out / "a.png").pixels, read_image_from(theirs))
    assert (out / "b.png").is_file() and not list(out.glob(".*"))


def read_image_from(array: np.ndarray) -> np.ndarray:
    return (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)


def test_skip_existing_counts_an_output_written_meanwhile_as_done(tmp_path, checkpoint, photos, monkeypatch, capsys):
    out = tmp_path / "out"
    original = memrestore.api.Restorer.restore_array

    def race(self, array):
        if not (out / "a.png").exists():
            write_image(out / "a.png", np.zeros((24, 32, 3), np.uint8))
        return original(self, array)

    monkeypatch.setattr(memrestore.api.Restorer, "restore_array", race)
    assert main(["restore", str(photos), "-o", str(out), "--checkpoint", str(checkpoint), "--skip-existing"]) == 0
    assert "1 already done (skipped)" in capsys.readouterr().out
    assert read_image(out / "a.png").pixels.max() == 0  # the other run's file is intact


# -- 2. decompression bombs and oversized images ---------------------------------------------------
def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (its pixel data is a few bytes of zeros)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_its_header_and_the_batch_goes_on(tmp_path, checkpoint, photos, capsys):
    (photos / "bomb.png").write_bytes(png_header_only(100_000, 100_000))
    out = tmp_path / "out"
    code = main(["restore", str(photos), "-o", str(out), "--checkpoint", str(checkpoint)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    [line] = error_lines(captured.err)
    assert f"{photos / 'bomb.png'}: 100000x100000 = 10000 megapixels is over the limit of 256" in line
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_pixel_limit_is_configurable(tmp_path, checkpoint, photos, capsys):
    code = main(["restore", str(photos / "a.png"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint),
                 "--max-megapixels", "0.0005"])
    captured = capsys.readouterr()
    assert code == 1 and "32x24 = 0 megapixels is over the limit" in captured.err
    assert main(["restore", str(photos / "a.png"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint),
                 "--max-megapixels", "1"]) == 0


# -- 3. write failures ----------------------------------------------------------------------------
@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
                                         (errno.EACCES, "Permission denied")])
def test_write_failure_names_the_file_and_the_batch_goes_on(tmp_path, checkpoint, photos, monkeypatch, capsys, code, words):
    out = tmp_path / "out"
    real = Path.write_bytes

    def failing(self, data):
        if self.parent == out:
            raise OSError(code, os.strerror(code))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    status = main(["restore", str(photos), "-o", str(out), "--checkpoint", str(checkpoint)])
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.err
    assert error_lines(captured.err) == [f"memrestore: error: {out / n}: cannot write ({words})" for n in ("a.png", "b.png")]
    assert "restored 0 of 2 images" in captured.out and "2 failed" in captured.out
    assert list(out.iterdir()) == []  # no temporary files left behind


def test_training_stops_in_one_line_when_the_disk_is_full(tmp_path, paired_root, monkeypatch, capsys):
    from memrestore.engine import state

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(state, "save_file", full)
    code = main(["train", "--quiet", str(cycle_config(tmp_path, paired_root, "full"))])
    assert_one_line(capsys, code, 2, f"{tmp_path / 'runs' / 'full' / 'resume.safetensors'}: cannot write (No space left on device)")


@pytest.mark.parametrize("command", [
    ["restore", "{photos}", "-o", "{file}", "--checkpoint", "{ckpt}"],
    ["export", "{ckpt}", "--format", "torchscript", "-o", "{folder}"],
    ["eval", "--pred", "{photos}", "--target", "{photos}", "--csv", "{folder}"],
    ["synth", "--task", "derain", "--clean", "{photos}", "-o", "{file}"],
])
def test_output_path_of_the_wrong_kind_is_one_line_before_any_work(tmp_path, checkpoint, photos, capsys, command):
    (tmp_path / "file.png").write_bytes(b"keep me")
    (tmp_path / "folder").mkdir()
    names = {"photos": photos, "file": tmp_path / "file.png", "folder": tmp_path / "folder", "ckpt": checkpoint}
    args = [a.format(**names) for a in command]
    before = snapshot(tmp_path)
    code = main(args)
    assert_one_line(capsys, code, 2, str(names["file"] if "{file}" in command else names["folder"]))
    assert snapshot(tmp_path) == before


# -- 4. exact resume at every point of the checkpoint/validation cycle ---------------------------------
KILLER = """
import os, signal, sys
from memrestore.recipes import load_config
from memrestore.engine import trainer as T
from memrestore.engine.logger import RunLogger
from memrestore.io import atomic
point, step = sys.argv[2], int(sys.argv[3])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)

def wrap(owner, name, before=None, after=None):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        if before and before(*args, **kwargs): die()
        result = original(*args, **kwargs)
        if after and after(*args, **kwargs): die()
        return result
    setattr(owner, name, wrapper)

publishes = []
if point == "before-validation":
    wrap(T.Trainer, "validate", before=lambda self, logger: self.step == step)
elif point == "after-validation-row":
    wrap(RunLogger, "scalars", after=lambda self, r: "val_psnr" in r and r["step"] == step)
elif point == "after-best":
    wrap(T.Trainer, "_write_samples", before=lambda self, logger: self.step == step)
elif point == "inside-state-write":  # the temporary file is complete, not yet renamed
    wrap(atomic, "_publish", before=lambda tmp, path, exclusive: path.name == "resume.safetensors"
         and (publishes.append(1) or len(publishes) == step // 2))
elif point == "between-state-and-last":
    wrap(T, "save_checkpoint", before=lambda path, *a, **k: path.name == "last" and k.get("step") == step)
elif point == "before-summary":
    wrap(RunLogger, "scalars", before=lambda self, r: "summary" in r)
elif point == "after-summary":
    wrap(RunLogger, "scalars", after=lambda self, r: "summary" in r)
T.Trainer(load_config(sys.argv[1]), progress=False).fit()
"""
KILL_POINTS = ["before-validation", "after-validation-row", "after-best", "inside-state-write", "between-state-and-last",
               "before-summary", "after-summary"]
TIMING = ("seconds", "images_per_second", "data_wait_fraction")


def cycle_config(tmp_path: Path, paired_root: Path, name: str) -> Path:
    """12 steps, a state every 2 and a validation every 3: step 6 has both."""
    config = {
        "name": name, "output_dir": str(tmp_path / "runs"),
        "model": {"name": "unet", "width": 8, "depths": [1], "middle": 1},
        "data": {"train": {"root": str(paired_root), "patch_size": 16, "batch_size": 2}, "val": {"root": str(paired_root)}},
        "train": {"iterations": 12, "checkpoint_every": 2, "val_every": 3, "log_every": 1, "ema": 0.9,
                  "optimizer": {"lr": 1e-3}},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def comparable_log(run: Path) -> list[dict]:
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("train_seconds", None)
        for key in TIMING:
            record.get("summary", {}).pop(key, None)
    return records


def comparable_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    from memrestore.engine.trainer import Trainer

    tmp_path = tmp_path_factory.mktemp("reference")
    root = tmp_path / "pairs"
    rng = np.random.default_rng(1234)
    for i in range(3):
        clean = smooth_image(rng)
        write_image(root / "target" / f"img{i}.png", clean)
        write_image(root / "input" / f"img{i}.png", np.clip(clean + rng.normal(0, 0.08, clean.shape), 0, 1))
    Trainer(load_config(cycle_config(tmp_path, root, "reference")), progress=False).fit()
    return tmp_path / "runs" / "reference", root


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_anywhere_in_the_cycle_then_resume_is_exact(tmp_path, reference_run, point):
    from memrestore.engine.trainer import Trainer

    reference, root = reference_run
    config_path = cycle_config(tmp_path, root, "killed")
    killed = subprocess.run([sys.executable, "-c", KILLER, str(config_path), point, "6"], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    run = tmp_path / "runs" / "killed"
    if point == "inside-state-write":
        assert list(run.glob(".resume.safetensors.*")), "the kill should leave a temporary file"
    Trainer(load_config(run / "config.yaml"), progress=False, resume=True).fit()
    assert not [p for p in run.rglob(".*") if p.is_file()], "temporary files were not removed"
    assert_same_run(run, reference)


def assert_same_run(run: Path, reference: Path) -> None:
    """Same log (timings aside), same final, best and EMA weights, best chosen at the same step."""
    assert comparable_log(run) == comparable_log(reference)
    for name in ("model", "best", "model_ema"):
        mine, theirs = comparable_weights(run / f"{name}.safetensors"), comparable_weights(reference / f"{name}.safetensors")
        assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine), name
    assert json.loads((run / "best.json").read_text())["step"] == json.loads((reference / "best.json").read_text())["step"]


def test_ctrl_c_during_validation_then_resume_is_exact(tmp_path, reference_run, monkeypatch):
    from memrestore.engine.trainer import Trainer
    from memrestore.errors import Interrupted

    reference, root = reference_run
    config = load_config(cycle_config(tmp_path, root, "ctrl-c"))
    original = Trainer._write_samples

    def interrupt_at_step_6(self, logger):
        if self.step == 6:
            raise KeyboardInterrupt  # after the row and best.safetensors, before the samples
        original(self, logger)

    monkeypatch.setattr(Trainer, "_write_samples", interrupt_at_step_6)
    with pytest.raises(Interrupted, match="interrupted at step 6"):
        Trainer(config, progress=False).fit()
    monkeypatch.setattr(Trainer, "_write_samples", original)
    Trainer(config, progress=False, resume=True).fit()
    assert_same_run(config.run_dir, reference)


def test_resume_of_a_finished_run_changes_nothing(tmp_path, paired_root, capsys):
    config_path = cycle_config(tmp_path, paired_root, "done")
    assert main(["train", str(config_path), "--quiet"]) == 0
    run = tmp_path / "runs" / "done"
    before = snapshot(run)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "trained unet for 12 steps" in capsys.readouterr().out
    assert snapshot(run) == before  # recorded time, output_dir, log and weights untouched
    assert yaml.safe_load((run / "config.yaml").read_text())["output_dir"] == str(tmp_path / "runs")


def test_resume_by_a_relative_path_keeps_the_recorded_output_dir(tmp_path, paired_root, monkeypatch, capsys):
    config_path = cycle_config(tmp_path, paired_root, "rel")
    assert main(["train", str(config_path), "--quiet", "--set", "train.iterations=4"]) == 0
    run = tmp_path / "runs" / "rel"
    seconds = json.loads((run / "model.json").read_text())["metrics"]["seconds"]
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--resume", "runs/rel", "--quiet", "--set", "train.iterations=6"]) == 0
    assert yaml.safe_load((run / "config.yaml").read_text())["output_dir"] == str(tmp_path / "runs")
    assert json.loads((run / "model.json").read_text())["metrics"]["seconds"] > seconds  # time accumulates


# -- 5. non-finite model outputs ------------------------------------------------------------------
def test_model_producing_nan_writes_nothing_and_fails(tmp_path, photos, capsys):
    config = load_config(None, ["model.width=8", "model.depths=[1]", "model.middle=1"])
    model = memrestore.model_from_config(config.model)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    broken = save_checkpoint(tmp_path / "broken", model, config)
    out = tmp_path / "out"
    code = main(["restore", str(photos / "a.png"), "-o", str(out), "--checkpoint", str(broken)])
    line = assert_one_line(capsys, code, 1, str(photos / "a.png"), "NaN or infinite values")
    assert "nothing was written" in line and list(out.iterdir()) == []


# -- 6. metadata of 16-bit and grey+alpha images ------------------------------------------------------
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_16bit_png_keeps_icc_profile_and_exif_through_restore(tmp_path, checkpoint, rng):
    exif = Image.Exif()
    exif[0x010F] = "memrestore-camera"
    pixels = rng.integers(0, 65536, (20, 24, 3)).astype(np.uint16)
    write_image(tmp_path / "in" / "p16.png", ImageData(pixels, icc_profile=SRGB, exif=exif.tobytes()))
    source = read_image(tmp_path / "in" / "p16.png")
    assert source.icc_profile == SRGB and np.array_equal(source.pixels, pixels)
    result = run_cli("restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint))
    assert result.returncode == 0, result.stderr
    restored = read_image(tmp_path / "out" / "p16.png")
    assert restored.bit_depth == 16 and restored.icc_profile == SRGB
    assert Image.open(tmp_path / "out" / "p16.png").getexif()[0x010F] == "memrestore-camera"


def test_16bit_tiff_keeps_its_icc_profile(tmp_path, rng):
    pixels = rng.integers(0, 65536, (9, 11, 3)).astype(np.uint16)
    write_image(tmp_path / "a.tif", ImageData(pixels, icc_profile=SRGB))
    back = read_image(tmp_path / "a.tif")
    assert back.bit_depth == 16 and np.array_equal(back.pixels, pixels) and back.icc_profile == SRGB


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_grey_alpha_png_stays_grey_alpha(tmp_path, checkpoint, rng, dtype):
    top = np.iinfo(dtype).max
    grey, alpha = (rng.integers(0, top + 1, (16, 20)).astype(dtype) for _ in range(2))
    write_image(tmp_path / "in" / "ga.png", ImageData(grey, alpha=alpha))
    image = read_image(tmp_path / "in" / "ga.png")
    assert image.is_grey and np.array_equal(image.pixels, grey) and np.array_equal(image.alpha, alpha)
    assert main(["restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint)]) == 0
    restored = read_image(tmp_path / "out" / "ga.png")
    assert restored.is_grey and restored.pixels.dtype == dtype and np.array_equal(restored.alpha, alpha)


# -- 7. expected mistakes that used to print tracebacks ------------------------------------------------
def test_zero_batch_size_is_a_config_error(tmp_path, paired_root, capsys):
    code = main(["train", str(cycle_config(tmp_path, paired_root, "zero")), "--set", "data.train.batch_size=0"])
    assert_one_line(capsys, code, 2, "data.train.batch_size: 0 is out of range (must be >= 1)")
    assert not (tmp_path / "runs").exists()


def test_eval_of_images_smaller_than_the_ssim_window(tmp_path, capsys):
    for folder in ("pred", "target"):
        write_image(tmp_path / folder / "tiny.png", np.zeros((6, 6, 3), np.uint8))
    code = main(["eval", "--pred", str(tmp_path / "pred"), "--target", str(tmp_path / "target")])
    assert_one_line(capsys, code, 2, str(tmp_path / "pred" / "tiny.png"), "SSIM needs images of at least 11x11")


def test_eval_crop_border_larger_than_the_image(tmp_path, rng, capsys):
    for folder in ("pred", "target"):
        write_image(tmp_path / folder / "x.png", smooth_image(rng, 20, 20))
    code = main(["eval", "--pred", str(tmp_path / "pred"), "--target", str(tmp_path / "target"), "--crop-border", "50"])
    assert_one_line(capsys, code, 2, str(tmp_path / "pred" / "x.png"), "crop border 50 leaves no pixels of a 20x20 image")
    code = call(["eval", "--pred", str(tmp_path / "pred"), "--target", str(tmp_path / "target"), "--crop-border", "-1"])
    assert_one_line(capsys, code, 2, "argument --crop-border: must be at least 0, got -1")


def test_eval_over_a_file_name_that_is_not_utf8(tmp_path, rng):
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes, not valid UTF-8
    for folder in ("pred", "target"):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / name, smooth_image(rng, 16, 16))
    result = subprocess.run([sys.executable, "-m", "memrestore.cli.main", "eval", "--pred", str(tmp_path / "pred"),
                             "--target", str(tmp_path / "target")], capture_output=True)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert b"caf\xe9 " in result.stdout  # printed as its own bytes, as ls prints it
    assert b"caf\xe9," in (tmp_path / "pred" / "metrics_rgb.csv").read_bytes()  # the name's own bytes


def test_checkpoint_header_that_is_not_json(tmp_path, checkpoint, capsys):
    bad = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(1)}, str(bad), metadata={"format": FORMAT, "config": "{not json"})
    code = main(["info", str(bad)])
    assert_one_line(capsys, code, 2, f"{bad}: checkpoint config is not valid JSON")


def test_ctrl_c_during_start_up(monkeypatch, capsys):
    import importlib.abc

    import memrestore.cli as cli_package

    class CtrlC(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "memrestore.cli.commands":
                raise KeyboardInterrupt  # Ctrl-C while the heavy modules are imported

    monkeypatch.delitem(sys.modules, "memrestore.cli.commands", raising=False)
    monkeypatch.delattr(cli_package, "commands", raising=False)
    monkeypatch.setattr(sys, "meta_path", [CtrlC(), *sys.meta_path])
    assert main(["info", "x.safetensors"]) == 130
    assert capsys.readouterr().err.strip() == "memrestore: interrupted"


# -- 8. YAML 1.2 floats ---------------------------------------------------------------------------
def test_yaml_floats_in_exponent_notation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  optimizer:\n    lr: 1e-3\n  grad_clip: 1.0e30\n  iterations: 10\n")
    config = load_config(path, ["train.scheduler.min_lr=2E-7"])
    assert config.train.optimizer.lr == 1e-3 and config.train.grad_clip == 1e30
    assert config.train.scheduler.min_lr == 2e-7 and isinstance(config.train.iterations, int)


# -- 9. file permissions follow the umask ---------------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_outputs_follow_the_umask(tmp_path, paired_root, checkpoint, photos, umask, mode):
    old = os.umask(umask)
    try:
        assert main(["restore", str(photos / "a.png"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint)]) == 0
        assert main(["eval", "--pred", str(photos), "--target", str(photos), "--csv", str(tmp_path / "m.csv")]) == 0
        assert main(["train", "--quiet", str(cycle_config(tmp_path, paired_root, "perm")), "--set", "train.iterations=2"]) == 0
    finally:
        os.umask(old)
    run = tmp_path / "runs" / "perm"
    for path in (tmp_path / "out" / "a.png", tmp_path / "m.csv", run / "config.yaml", run / "model.safetensors",
                 run / "model.json", run / "resume.safetensors"):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


# -- 10. option values checked before any work ---------------------------------------------------------
@pytest.mark.parametrize("option, message", [
    (["--tile", "-5"], "tile (-5) and overlap (64) must be at least 0"),
    (["--overlap", "-3"], "tile (0) and overlap (-3) must be at least 0"),
    (["--tile", "32", "--overlap", "32"], "tile overlap 32 must be smaller than the tile size 32"),
    (["--max-memory", "lots"], "argument --max-memory: cannot read memory size 'lots'"),
    (["--max-megapixels", "0"], "argument --max-megapixels: must be positive"),
])
def test_bad_restore_options_fail_before_loading(tmp_path, photos, capsys, option, message):
    missing = tmp_path / "no-such-checkpoint.safetensors"  # options are checked before it is looked for
    code = call(["restore", str(photos), "-o", str(tmp_path / "out"), "--checkpoint", str(missing), *option])
    assert_one_line(capsys, code, 2, message)
    assert not (tmp_path / "out").exists()


def test_negative_iterations_is_a_config_error(tmp_path, paired_root, capsys):
    code = main(["train", str(cycle_config(tmp_path, paired_root, "neg")), "--set", "train.iterations=-5"])
    assert_one_line(capsys, code, 2, "train.iterations: -5 is out of range (must be >= 1)")
    assert not (tmp_path / "runs").exists()


def test_memory_budget_error_names_the_image(tmp_path, checkpoint, photos, capsys):
    code = main(["restore", str(photos / "a.png"), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint),
                 "--max-memory", "1KB"])
    assert_one_line(capsys, code, 1, f"{photos / 'a.png'}: --max-memory 0.00 GiB is too small for a 32x24 image")


def test_unknown_option_is_one_line(capsys):
    code = call(["restore", "x.png", "-o", "out", "--checkpoint", "c.safetensors", "--tiles", "3"])
    assert_one_line(capsys, code, 2, "memrestore: error: unrecognized arguments: --tiles 3 (see memrestore --help)")


# -- cases that held already, kept from regressing --------------------------------------------------
def test_bad_input_files_are_reported_and_the_batch_goes_on(tmp_path, checkpoint, photos, capsys):
    (photos / "empty.png").write_bytes(b"")
    (photos / "text.png").write_text("not an image")
    (photos / "cut.png").write_bytes((photos / "a.png").read_bytes()[:60])
    inputs = snapshot(photos)
    code = main(["restore", str(photos), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert sorted(error_lines(captured.err)) == sorted(
        f"memrestore: error: {photos / name}: {why}" for name, why in
        [("cut.png", "cannot decode image (truncated or corrupt file)"), ("empty.png", "file is empty"),
         ("text.png", "not an image file (or an unsupported format)")])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert snapshot(photos) == inputs


class Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_malicious_pickle_is_refused_without_running_it(tmp_path, paired_root, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"weight": Payload()}))
    code = main(["train", str(cycle_config(tmp_path, paired_root, "evil")), "--init", str(evil), "--quiet"])
    assert_one_line(capsys, code, 2, f"{evil}: cannot be read safely as weights")
    assert not (tmp_path / "pwned").exists()


def test_ctrl_c_during_restore_keeps_finished_outputs(tmp_path, checkpoint, photos, monkeypatch, capsys):
    original, calls = memrestore.api.Restorer.restore_array, []

    def interrupt_second(self, array):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, array)

    monkeypatch.setattr(memrestore.api.Restorer, "restore_array", interrupt_second)
    assert main(["restore", str(photos), "-o", str(tmp_path / "out"), "--checkpoint", str(checkpoint)]) == 130
    assert "memrestore: interrupted" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]  # complete, and no partial file
