"""An XSS payload in every user string shows as text and never runs (dialogs are watched by the
``page`` fixture, which fails the test if any opens); notes' markdown is sanitized."""

from __future__ import annotations

from seed import XSS

# Elements the payload would create if it were parsed as HTML in the live page (the sanitized note may
# keep a harmless <img src="x">, so handlers are what is looked for).
NO_HANDLERS = "() => [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"


def _settle(pg):
    pg.wait_for_load_state("networkidle")


def test_payload_in_experiment_names_is_text(page, ui_server):
    pg = page.page
    pg.goto(f"{ui_server.url}/#/")
    link = pg.get_by_role("link", name=XSS)
    link.wait_for()
    assert link.inner_text() == XSS
    link.click()
    pg.locator("#runs-table").wait_for()
    _settle(pg)
    assert pg.locator("h1").inner_text() == XSS
    assert pg.locator("#runs-table a.run-link").inner_text() == XSS
    assert pg.locator("#runs-table").inner_text().count(XSS) >= 2  # the run name and the param column
    assert pg.evaluate(NO_HANDLERS) == 0


def test_payload_in_tag_columns_is_text(page, ui_server):
    pg = page.page
    pg.goto(f"{ui_server.url}/#/experiments/{ui_server.ids['xexp']}")
    pg.locator("#runs-table").wait_for()
    pg.locator("details.columns summary").click()
    pg.locator("details.columns fieldset", has_text="tags").get_by_label("payload").check()
    pg.locator("#runs-table th", has_text="payload").nth(1).wait_for()
    assert pg.locator("#runs-table tbody td", has_text=XSS).count() == 3
    assert pg.evaluate(NO_HANDLERS) == 0


def test_payload_on_the_run_page_is_text_and_the_note_is_sanitized(page, ui_server):
    pg = page.page
    pg.goto(f"{ui_server.url}/#/experiments/{ui_server.ids['xexp']}/runs/{ui_server.ids['x']}")
    pg.get_by_role("heading", name=XSS).wait_for()
    assert pg.locator("#params-table td").inner_text() == XSS
    assert XSS in pg.locator("#tags-table").inner_text()
    assert pg.locator("#datasets").inner_text().count(XSS) == 3  # name, source type, source
    tree = pg.locator("#artifact-tree")
    tree.get_by_role("button", name=f"{XSS}.txt").click()
    pg.locator("#artifact-preview pre", has_text=XSS).wait_for()
    assert pg.locator("#artifact-preview strong").inner_text() == f"{XSS}.txt"
    note = pg.locator("#note-view")
    # Sanitized: no script, no handler, no javascript: link survives DOMPurify.
    assert note.locator("script").count() == 0
    assert note.locator("a[href^='javascript']").count() == 0
    pg.get_by_role("heading", name="Run JSON").scroll_into_view_if_needed()
    _settle(pg)
    assert pg.evaluate(NO_HANDLERS) == 0
    assert XSS in pg.locator("#run-json").text_content()
    pg.get_by_role("heading", name="Notes").scroll_into_view_if_needed()
    from ui_procs import screenshot
    screenshot(pg, "xss-as-text")


def test_payload_on_the_compare_page_is_text(page, ui_server):
    pg = page.page
    ids = f'["{ui_server.ids["x"]}","{ui_server.ids["a"]}"]'
    pg.goto(f"{ui_server.url}/#/compare-runs?runs={ids}")
    pg.locator("#compare-table").wait_for()
    assert pg.locator("#compare-table thead a", has_text=XSS).inner_text() == XSS
    pg.locator('section.chart[data-metric="payload"]').scroll_into_view_if_needed()
    pg.wait_for_function("() => Number(document.querySelector('section.chart[data-metric=payload]')?.dataset.drawn) > 0")
    assert pg.evaluate(NO_HANDLERS) == 0
    legend = pg.locator('section.chart[data-metric="payload"] .u-legend').inner_text()
    assert XSS in legend


def test_a_saved_note_with_a_payload_is_sanitized(page, ui_server):
    pg = page.page
    pg.goto(f"{ui_server.url}/#/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['parent']}")
    pg.click("#edit-note")
    pg.fill("#note-editor", f"hello {XSS} <svg onload=alert(5)></svg> <iframe src='javascript:alert(6)'></iframe>")
    pg.click("#save-note")
    pg.locator("#note-view", has_text="hello").wait_for()
    _settle(pg)
    assert pg.locator("#note-view iframe, #note-view svg").count() == 0
    assert pg.evaluate(NO_HANDLERS) == 0
