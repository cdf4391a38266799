"""The web app's request logic without a browser: uploads -> restored files, previews, zoom, zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from memrestore.api import DEFAULT_MEMORY_BUDGET
from memrestore.app.batch import (BatchRestorer, gather_uploads, model_choices, preview, viewable_rgb, zip_results,
                                  zoom_pair)
from memrestore.errors import MemrestoreError
from memrestore.io import read_image, write_image
from memrestore.io.arrays import from_float
from memrestore.pretrained import TASKS, model_cards

from tests.helpers import run_cli, smooth_image

FIXTURE_CHECKPOINT = Path(__file__).parents[1] / "fixtures" / "unet_previous_release.safetensors"


@pytest.fixture
def uploads(tmp_path, rng) -> dict[str, Path]:
    """A 16-bit PNG, an 8-bit JPEG, a text file and a truncated PNG, as a browser would upload them."""
    folder = tmp_path / "uploads"
    files = {"deep": folder / "deep.png", "photo": folder / "photo.jpg", "text": folder / "notes.txt",
             "broken": folder / "broken.png"}
    write_image(files["deep"], from_float(smooth_image(rng, 40, 56), np.uint16))
    write_image(files["photo"], smooth_image(rng, 48, 64))
    files["text"].write_text("not a photo")
    write_image(files["broken"], smooth_image(rng, 48, 64))
    files["broken"].write_bytes(files["broken"].read_bytes()[:80])
    return files


def test_every_packaged_task_is_offered_with_given_checkpoints():
    choices = model_choices([FIXTURE_CHECKPOINT])
    assert [value for _, value in choices] == [t for t in TASKS if t in model_cards()] + [str(FIXTURE_CHECKPOINT)]
    assert choices[0] == ("Rain streaks (derain)", "derain")


def test_folder_uploads_keep_images_and_name_the_rest(uploads):
    files, skipped = gather_uploads([uploads["text"]], [uploads["deep"], uploads["photo"], uploads["text"],
                                                        uploads["deep"].with_name(".DS_Store")])
    assert files == [uploads["text"], uploads["deep"], uploads["photo"]]  # an explicit upload is always tried
    assert skipped == ["notes.txt"]


def test_batch_restores_what_it_can_and_reports_the_rest_in_one_line_each(tmp_path, uploads):
    batch = BatchRestorer(tmp_path / "work")
    calls = []
    report = batch.restore("derain", [uploads["deep"], uploads["text"], uploads["broken"], uploads["photo"]],
                           skipped=["readme.md"], progress=lambda done, total, name: calls.append((done, total)))
    assert [r.name for r in report.restored] == ["deep.png", "photo.jpg"]
    errors = {r.name: r.error for r in report.results if r.error}
    assert errors["notes.txt"].startswith("notes.txt: not an image file name")
    assert errors["broken.png"].startswith("broken.png: ") and "\n" not in errors["broken.png"]
    assert str(uploads["broken"].parent) not in errors["broken.png"]  # the user's name, not the server's path
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    summary = report.summary()
    assert summary.splitlines()[0] == ("restored 2 of 4 images, 2 failed; skipped 1 files in the folder that "
                                       "are not images")
    deep = read_image(report.folder / "deep.png")
    assert deep.pixels.dtype == np.uint16 and deep.format == "PNG"
    assert read_image(report.folder / "photo.jpg").format == "JPEG"


def test_batch_writes_what_the_cli_writes(tmp_path, uploads):
    report = BatchRestorer(tmp_path / "work").restore("dehaze", [uploads["deep"]])
    done = run_cli("restore", str(uploads["deep"]), "--task", "dehaze", "-o", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    ours, cli = read_image(report.restored[0].output), read_image(tmp_path / "cli" / "deep.png")
    assert ours.pixels.dtype == cli.pixels.dtype == np.uint16
    assert np.array_equal(ours.pixels, cli.pixels)


def test_batch_refuses_nothing_and_bad_models_before_any_image(tmp_path, uploads):
    batch = BatchRestorer(tmp_path / "work")
    with pytest.raises(MemrestoreError, match="no photos uploaded"):
        batch.restore("derain", [])
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(MemrestoreError, match="model.safetensors"):
        batch.restore(str(bad), [uploads["photo"]])
    assert not list((tmp_path / "work").glob("request-*"))


def test_duplicate_names_are_refused_not_overwritten(tmp_path, uploads):
    twin = tmp_path / "elsewhere" / "photo.jpg"
    write_image(twin, smooth_image(np.random.default_rng(5), 48, 64))
    report = BatchRestorer(tmp_path / "work").restore("deblur", [uploads["photo"], twin])
    assert len(report.restored) == 1 and "another upload has the same name" in report.results[1].error


def test_models_are_loaded_once_under_the_photo_memory_budget(tmp_path):
    batch = BatchRestorer(tmp_path / "work")
    first = batch.restorer("derain")
    assert batch.restorer("derain") is first
    assert first.options.max_memory == DEFAULT_MEMORY_BUDGET
    assert batch.restorer(str(FIXTURE_CHECKPOINT)) is not first
    assert BatchRestorer(tmp_path / "w2", max_memory=2**29).restorer("derain").options.max_memory == 2**29


def test_old_request_folders_are_removed(tmp_path, uploads):
    batch = BatchRestorer(tmp_path / "work", keep_seconds=0)
    first = batch.restore("derain", [uploads["photo"]]).folder
    second = batch.restore("derain", [uploads["photo"]]).folder
    assert not first.exists() and second.is_dir()


def test_preview_zoom_and_zip(tmp_path, uploads):
    report = BatchRestorer(tmp_path / "work").restore("derain", [uploads["deep"], uploads["photo"]])
    small = preview(uploads["deep"], tmp_path / "p.png", side=28)
    shown = read_image(small)
    assert shown.pixels.dtype == np.uint8 and shown.pixels.shape == (20, 28, 3)  # 40x56 fitted into 28
    before, after = viewable_rgb(uploads["deep"]), viewable_rgb(report.restored[0].output)
    zoom = zoom_pair(before, after, x=1.0, y=0.0, crop=16, scale=2)
    assert zoom.shape == (32, 2 * 32 + 8, 3) and zoom.dtype == np.uint8
    np.testing.assert_array_equal(zoom[:2:2, :32:2], from_float(before[:1, 40:56], np.uint8))  # top-right crop
    np.testing.assert_array_equal(zoom[0:32:2, 40::2], from_float(after[:16, 40:56], np.uint8))
    with pytest.raises(ValueError, match="differ in size"):
        zoom_pair(before, after[:10], 0.5, 0.5)
    with zipfile.ZipFile(zip_results(report)) as archive:
        assert sorted(archive.namelist()) == ["deep.png", "photo.jpg"]
        assert archive.read("deep.png") == (report.folder / "deep.png").read_bytes()
