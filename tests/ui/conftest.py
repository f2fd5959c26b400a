"""Fixtures of the browser tests (helpers in ui_procs.py: a uniquely named module, since several test
folders have a conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from seed import seed
from ui_procs import CHROMIUM, CHROMIUM_ARGS, Watched, start_ui, stop


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory):
    srv = start_ui(tmp_path_factory.mktemp("ui"))
    srv.ids = seed(srv.url)
    yield srv
    stop(srv.proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (scripts/test.sh does) "
                    "or set ASYNCCLIENT_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1200, "height": 760}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    watched = Watched(pg)
    yield watched
    ctx.close()
    assert watched.dialogs == [], f"a dialog opened: {watched.dialogs}"
