"""``memrestore app``: the browser front end (Gradio) over ``batch.BatchRestorer``.

Upload photos (or a folder), pick a task's packaged model or a checkpoint, restore with a progress
bar, compare input and result with a before/after slider and a zoomed crop, download each result (the
file ``memrestore restore`` would write: same name, format and bit depth) or all of them as a zip.
Requests are queued and run one at a time, so several users at once wait their turn instead of
competing for the CPU. The server binds to 127.0.0.1 unless told otherwise, and everything it serves
(scripts, fonts) ships with Gradio: it works offline.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import MemrestoreError
from .batch import (ZOOM_SCALE, BatchRestorer, gather_uploads, model_choices, preview, viewable_rgb, zip_results,
                    zoom_pair)

OWN_CHECKPOINT = "upload"  # the model menu's value for "a checkpoint uploaded below"
CHECKPOINT_SUFFIXES = [".safetensors", ".pth", ".pt", ".ckpt", ".bin"]
QUEUE_SIZE = 32  # requests waiting beyond this are refused with a message, not held forever
CSS = "#status {min-height: 2em} footer {display: none !important}"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # nothing fetched from a font service


def _gradio():
    """Gradio, or a one-line error saying how to install it (it is an optional dependency)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a local app
    try:
        import gradio
    except ImportError:
        raise MemrestoreError("memrestore app needs Gradio: pip install 'memrestore[app]'") from None
    return gradio


def build_app(batch: BatchRestorer, checkpoints: list[str] | None = None):
    """The Gradio ``Blocks`` of the app; ``checkpoints`` are extra models offered in the menu."""
    gr = _gradio()
    choices = model_choices(checkpoints or [])
    if not choices:
        raise MemrestoreError("no models to offer: no packaged default models found and no --checkpoint given")
    choices.append(("My own checkpoint (upload it below)", OWN_CHECKPOINT))

    def run(photos: list[str] | None, folder: list[str] | None, model: str, own: str | None,
            progress: Any = gr.Progress()) -> tuple:
        source = own if model == OWN_CHECKPOINT else model
        if model == OWN_CHECKPOINT and not own:
            raise gr.Error("choose a checkpoint file to upload, or pick a task's model", print_exception=False)
        uploads, skipped = gather_uploads(photos or [], folder or [])

        def step(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"restoring {name}", unit="images")

        try:
            report = batch.restore(source, uploads, skipped, step)
        except MemrestoreError as exc:  # an uploaded checkpoint is named as the user knows it
            message = str(exc).replace(own, Path(own).name) if own else str(exc)
            raise gr.Error(message, print_exception=False) from None
        views = {}
        for result in report.restored:
            previews = report.folder / "previews"
            views[result.name] = (str(preview(result.source, previews / f"input_{result.name}.png")),
                                  str(preview(result.output, previews / f"restored_{result.name}.png")),
                                  str(result.source), str(result.output))
        files = [str(r.output) for r in report.restored]
        archive = str(zip_results(report)) if files else None
        first = next(iter(views), None)
        return (report.summary(), views, gr.update(choices=list(views), value=first, visible=bool(views)),
                *_view(views, first, 0.5, 0.5), files or None, archive)

    def _view(views: dict, name: str | None, x: float, y: float) -> tuple:
        if not name or name not in views:
            return None, None
        before_preview, after_preview, before, after = views[name]
        return (before_preview, after_preview), zoom_pair(viewable_rgb(before), viewable_rgb(after), x, y)

    with gr.Blocks(title="memrestore", delete_cache=(3600, 24 * 3600)) as app:
        gr.Markdown("## memrestore: restore photos\nRain streaks, raindrops, shadows, motion blur and haze, "
                    "removed on this computer with memrestore's packaged models (nothing leaves the machine).")
        views = gr.State({})
        with gr.Row():
            with gr.Column(scale=1):
                photos = gr.File(file_count="multiple", label="Photos", elem_id="photos", height=140)
                folder = gr.File(file_count="directory", label="...or a folder of photos", elem_id="folder", height=140)
                model = gr.Dropdown(choices=choices, value=choices[0][1], label="What to remove", elem_id="model")
                with gr.Accordion("Own checkpoint", open=False):
                    own = gr.File(file_types=CHECKPOINT_SUFFIXES, label="a memrestore .safetensors, or a peer's "
                                  "released .pth (pick 'My own checkpoint' above)", elem_id="own", height=120)
                go = gr.Button("Restore", variant="primary", elem_id="restore")
                status = gr.Markdown(elem_id="status")
            with gr.Column(scale=2):
                which = gr.Dropdown(label="Compare", visible=False, elem_id="which")
                slider = gr.ImageSlider(label="Input | restored (drag the handle)", type="filepath",
                                        interactive=False, elem_id="slider", format="png")
                zoom = gr.Image(label=f"Zoom x{ZOOM_SCALE}: input | restored", interactive=False, elem_id="zoom", format="png")
                with gr.Row():
                    x = gr.Slider(0, 1, value=0.5, step=0.01, label="Zoom position across", elem_id="zoom-x")
                    y = gr.Slider(0, 1, value=0.5, step=0.01, label="Zoom position down", elem_id="zoom-y")
                downloads = gr.File(label="Restored files (same format and bit depth as uploaded)",
                                    file_count="multiple", interactive=False, elem_id="downloads")
                archive = gr.File(label="All results as a zip", interactive=False, elem_id="archive")
        # restorations wait in the queue, one at a time (queue(default_concurrency_limit=1) in serve)
        go.click(run, [photos, folder, model, own], [status, views, which, slider, zoom, downloads, archive])
        for control in (which, x, y):
            control.change(_view, [views, which, x, y], [slider, zoom], queue=False)
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, checkpoints: list[str] | None = None, device: str = "auto",
          max_memory: int | None = None, max_pixels: int | None = None, max_upload: str = "1gb",
          work: str | Path | None = None):
    """Start the app on ``host:port`` in a background thread; returns (app, local URL). The caller
    keeps the process alive (``app.block_thread()`` serves until Ctrl-C) or ends it (``app.close()``)."""
    from ..io.images import DEFAULT_MAX_PIXELS

    from ..device import resolve_device

    gr = _gradio()
    resolve_device(device)  # an unavailable device is refused now, not at the first upload
    work = Path(work or tempfile.mkdtemp(prefix="memrestore-app-"))
    batch = BatchRestorer(work, device, max_memory, max_pixels or DEFAULT_MAX_PIXELS)
    app = build_app(batch, checkpoints)
    app.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=["ui-monospace", "monospace"])
    try:
        _, url, _ = app.launch(server_name=host, server_port=port, prevent_thread_lock=True, share=False,
                               allowed_paths=[str(work.resolve())], max_file_size=max_upload, quiet=True,
                               show_error=True, footer_links=[], run_history=False, enable_monitoring=False,
                               ssr_mode=False, mcp_server=False, theme=theme, css=CSS)
    except OSError:  # the port is taken, or the host cannot be bound
        raise MemrestoreError(f"cannot serve on {host}:{port}: the port is in use or the address cannot be "
                              "bound (choose another with --port / --host)") from None
    return app, url
