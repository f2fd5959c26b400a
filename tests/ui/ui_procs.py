"""Helpers of the browser tests: a real ``asyncclient ui`` process and Debian's Chromium driven by Playwright.

Chromium is never downloaded by Playwright: it is ``/usr/bin/chromium`` (apt-get, see scripts/test.sh), or
``ASYNCCLIENT_CHROMIUM``. The flags keep it from reaching out to the network, which is closed here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
# stop is re-exported for conftest.py.
from server_procs import REPO_ROOT, ServerProcess, free_port, stop, wait_healthy  # noqa: E402, F401

CHROMIUM = os.environ.get("ASYNCCLIENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "docs" / "ui"


def start_ui(workdir: Path, *args: str, command: str = "ui") -> ServerProcess:
    """``asyncclient ui`` (or ``server``) over a SQLite file in ``workdir`` on a free port."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "asyncclient.cli", command, "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{workdir / 'ui.db'}",
           "--artifacts-destination", str(workdir / "mlartifacts"), *args]
    log_path = workdir / f"ui-{port}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_path = log_path
    prefix = args[args.index("--static-prefix") + 1] if "--static-prefix" in args else ""
    url = f"http://127.0.0.1:{port}{prefix}"
    wait_healthy(url, proc)
    return ServerProcess(url, proc, workdir)


class Watched:
    """A page plus what must never happen on it: JavaScript dialogs (an XSS payload firing) and errors."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))


def screenshot(page, name: str) -> None:
    """<name>.png of the visible viewport (small files). A test run must not rewrite committed files, so
    the pictures go to a temporary folder unless ASYNCCLIENT_UI_SCREENSHOTS=1 asks to refresh docs/ui/."""
    folder = SCREENSHOTS if os.environ.get("ASYNCCLIENT_UI_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _scratch() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / f"asyncclient-ui-screenshots-{os.getuid()}"

