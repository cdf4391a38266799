"""`memrestore app` as a command: where it binds, and its one-line errors."""

from __future__ import annotations

import builtins
import socket
import subprocess
import sys
import urllib.request

import pytest

from memrestore.errors import MemrestoreError

from tests.helpers import run_cli


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_command_serves_this_machine_by_default():
    """The page is served on 127.0.0.1; a second app on the same port is one line, exit 2."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "memrestore.cli.main", "app", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.strip() == f"memrestore app: open http://127.0.0.1:{port}/ in a browser (Ctrl-C stops it)", \
            server.stderr.read() if server.poll() is not None else line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200 and b"memrestore" in response.read()
        taken = run_cli("app", "--port", str(port))
        assert taken.returncode == 2 and taken.stderr.count("\n") == 1, taken.stderr
        assert f"cannot serve on 127.0.0.1:{port}: the port is in use" in taken.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "must be at most 65535"),
    (["--checkpoint", "missing.safetensors"], "missing.safetensors: checkpoint not found"),
    (["--max-memory", "lots"], "cannot read memory size"),
    (["--device", "tpu"], "unknown device 'tpu'"),
])
def test_bad_options_are_one_line_errors(args, message):
    done = run_cli("app", *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_without_gradio_the_app_says_how_to_install_it(monkeypatch):
    from memrestore.app import ui

    real_import = builtins.__import__

    def no_gradio(name, *args, **kwargs):
        if name == "gradio" or name.startswith("gradio."):
            raise ImportError("No module named 'gradio'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "gradio", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_gradio)
    with pytest.raises(MemrestoreError, match=r"memrestore app needs Gradio: pip install 'memrestore\[app\]'"):
        ui.serve(port=_free_port())
