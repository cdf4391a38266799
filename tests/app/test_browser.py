"""`memrestore app` driven in a real headless browser (the system's Chromium through Playwright).

Skipped, with the reason, where no Chromium is installed (`make test` installs Debian's on a machine
where it can: root with apt-get) or Playwright is missing. Nothing is downloaded at test time.
"""

from __future__ import annotations

import shutil
import socket
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from memrestore.io import read_image, write_image
from memrestore.io.arrays import from_float

from tests.helpers import run_cli, smooth_image

FIXTURE_CHECKPOINT = Path(__file__).parents[1] / "fixtures" / "unet_previous_release.safetensors"
BROWSER = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
# Flags for a root user on a machine without network or display (each background service would
# otherwise try, and fail, to reach the internet).
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RESTORE_TIMEOUT_MS = 120_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium on this machine: browser tests skipped "
                                "(Debian: apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from memrestore.app.ui import serve

    app, url = serve(port=_free_port(), checkpoints=[str(FIXTURE_CHECKPOINT)], work=tmp_path_factory.mktemp("work"))
    yield url
    app.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=BROWSER, args=BROWSER_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#restore")
    yield page
    context.close()


@pytest.fixture
def photos(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(7)
    files = {"deep": tmp_path / "in" / "deep.png", "photo": tmp_path / "in" / "photo.jpg",
             "text": tmp_path / "in" / "notes.txt"}
    write_image(files["deep"], from_float(smooth_image(rng, 72, 96), np.uint16))
    write_image(files["photo"], smooth_image(rng, 64, 80))
    files["text"].write_text("a shopping list, not a photo")
    return files


def _restore(page, files: list[Path] | None = None, folder: Path | None = None, model: str | None = None) -> str:
    """Upload, pick the model, press Restore and return the status text once the request is done."""
    if files:
        page.locator("#photos input[type=file]").set_input_files([str(f) for f in files])
        page.wait_for_selector("#photos .file-preview")
    if folder:
        page.locator("#folder input[type=file]").set_input_files(str(folder))
        page.wait_for_selector("#folder .file-preview")
    if model:
        page.click("#model input")
        page.locator("[role=option]", has_text=model).click()
    page.click("#restore")
    page.wait_for_selector("#status :text('restored')", timeout=RESTORE_TIMEOUT_MS)
    return page.inner_text("#status")


def _download(page, link, folder: Path) -> Path:
    with page.expect_download() as started:
        link.click()
    download = started.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def test_restoring_in_the_browser_gives_the_cli_pixels(page, photos, tmp_path):
    status = _restore(page, [photos["deep"], photos["photo"]], model="Haze (dehaze)")
    assert status.startswith("restored 2 of 2 images, 0 failed")
    assert page.locator("#slider img").count() == 2  # before/after slider shows both
    assert page.locator("#zoom img").count() == 1
    links = page.locator("#downloads a[download]")
    got = {path.name: path for path in (_download(page, links.nth(i), tmp_path / "got") for i in range(links.count()))}
    assert set(got) == {"deep.png", "photo.jpg"}
    done = run_cli("restore", str(photos["deep"]), str(photos["photo"]), "--task", "dehaze", "-o", str(tmp_path / "cli"))
    assert done.returncode == 0, done.stderr
    for name, path in got.items():
        ours, cli = read_image(path), read_image(tmp_path / "cli" / name)
        assert (ours.format, ours.pixels.dtype) == (cli.format, cli.pixels.dtype), name
        assert np.array_equal(ours.pixels, cli.pixels), name
    assert read_image(got["deep.png"]).pixels.dtype == np.uint16  # 16-bit in, 16-bit out
    archive = _download(page, page.locator("#archive a[download]"), tmp_path / "zip")
    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == ["deep.png", "photo.jpg"]
        assert opened.read("deep.png") == got["deep.png"].read_bytes()


def test_a_progress_bar_names_the_photo_being_restored(page, photos, monkeypatch):
    from memrestore.app.batch import BatchRestorer

    original = BatchRestorer.restore

    def slowly(self, source, uploads, skipped=None, progress=None):
        progress(0, len(uploads), uploads[0].name)
        time.sleep(2.0)  # the page shows the progress meanwhile
        return original(self, source, uploads, skipped, progress)

    monkeypatch.setattr(BatchRestorer, "restore", slowly)
    page.locator("#photos input[type=file]").set_input_files([str(photos["deep"])])
    page.wait_for_selector("#photos .file-preview")
    page.click("#restore")
    page.wait_for_selector(":text('restoring deep.png')", timeout=RESTORE_TIMEOUT_MS)
    page.wait_for_selector("#status :text('restored 1 of 1')", timeout=RESTORE_TIMEOUT_MS)


def test_a_non_image_upload_shows_its_one_line_error(page, photos):
    status = _restore(page, [photos["text"], photos["photo"]])
    assert [line for line in status.splitlines() if line.strip()] == ["restored 1 of 2 images, 1 failed",
                                   "notes.txt: not an image file name (expected one of .png .jpg .bmp .tif .webp)"]
    assert "Traceback" not in page.content()


def test_pressing_restore_without_photos_shows_an_error_not_a_trace(page):
    page.click("#restore")
    toast = page.wait_for_selector(".toast-body")
    assert "no photos uploaded: add image files or a folder first" in toast.inner_text()
    assert "Traceback" not in page.content()


def test_a_folder_with_a_checkpoint_of_ones_own(page, photos):
    status = _restore(page, folder=photos["deep"].parent, model="Checkpoint unet_previous_release")
    assert status == "restored 2 of 2 images, 0 failed; skipped 1 files in the folder that are not images"
    assert page.locator("#which").is_visible()


def test_users_at_the_same_time_are_queued(browser, server, photos, monkeypatch):
    """Two users press Restore together: both requests finish, one after the other (never two
    restorations at once: each would slow the other several-fold on a small CPU)."""
    from memrestore.app.batch import BatchRestorer

    running, most = [0], [0]
    original = BatchRestorer.restore

    def observed(self, *args, **kwargs):
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            time.sleep(1.0)  # long enough for the other request to arrive meanwhile
            return original(self, *args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(BatchRestorer, "restore", observed)
    pages = []
    for _ in range(2):
        page = browser.new_context().new_page()
        page.goto(server)
        page.wait_for_selector("#restore")
        page.locator("#photos input[type=file]").set_input_files([str(photos["deep"]), str(photos["photo"])])
        page.wait_for_selector("#photos .file-preview")
        pages.append(page)
    for page in pages:
        page.click("#restore")
    for page in pages:
        page.wait_for_selector("#status :text('restored')", timeout=RESTORE_TIMEOUT_MS)
        assert page.inner_text("#status").startswith("restored 2 of 2 images, 0 failed")
        page.context.close()
    assert most[0] == 1
