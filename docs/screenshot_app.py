"""Write docs/app.png, the README's screenshot of `memrestore app` in use.

    .venv/bin/python docs/screenshot_app.py [PHOTO ...]

Starts the app on a free local port, uploads the photos (default: synthetic rain rendered by
`memrestore synth`'s derain generator on scikit-image's coffee photo), restores them with the
packaged derain model in the system's headless Chromium (Playwright), and screenshots the page.
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("app.png")


def main(photos: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    from memrestore.app.ui import serve
    from memrestore.data.synth import render
    from memrestore.demo import _photo
    from memrestore.io import write_image

    work = Path(tempfile.mkdtemp(prefix="memrestore-screenshot-"))
    if not photos:
        clean = _photo("coffee.png")
        photos = [str(work / "coffee_rain.png")]
        write_image(photos[0], render("derain", clean, np.random.default_rng(1))[0])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app, url = serve(port=port, work=work / "app")
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu",
                                         "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.locator("#photos input[type=file]").set_input_files(photos)
        page.wait_for_selector("#photos .file-preview")
        page.click("#restore")
        page.wait_for_selector("#status :text('restored')", timeout=300_000)
        page.locator("#zoom-x input[type=number]").fill("0.35")
        page.locator("#zoom-x input[type=number]").press("Enter")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT), full_page=True)
        browser.close()
    app.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
