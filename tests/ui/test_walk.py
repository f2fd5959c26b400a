"""What a person does in the UI, in a real Chromium: list → experiment → filter → run → chart → note →
compare → download → an MLflow-printed link. Each step saves a screenshot under docs/ui/."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import requests
from seed import SPIKE_VALUE
from ui_procs import screenshot


def _open(page, ui_server, hash_: str):
    page.page.goto(f"{ui_server.url}/#{hash_}")
    return page.page


def _wait_drawn(pg, metric: str):
    chart = pg.locator(f'section.chart[data-metric="{metric}"]')
    chart.scroll_into_view_if_needed()
    pg.wait_for_function(
        "m => { const e = document.querySelector(`section.chart[data-metric=\"${m}\"]`); return e && Number(e.dataset.drawn) > 0 }",
        arg=metric)
    return chart


def test_experiments_list_opens_an_experiment(page, ui_server):
    pg = _open(page, ui_server, "/")
    pg.get_by_role("link", name="ui-walk").wait_for()
    screenshot(pg, "experiments")
    pg.get_by_role("link", name="ui-walk").click()
    pg.locator("#runs-table").wait_for()
    assert f"#/experiments/{ui_server.ids['exp']}?" in pg.url
    names = pg.locator("#runs-table a.run-link").all_inner_texts()
    assert names[:2] == ["run-a", "run-b"]  # newest first by default
    screenshot(pg, "runs")


def test_experiments_can_be_created_renamed_deleted_and_restored(page, ui_server):
    pg = _open(page, ui_server, "/")
    pg.fill("#new-experiment-name", "made-in-browser")
    pg.get_by_role("button", name="Create").click()
    row = pg.locator("#experiments-table tr", has_text="made-in-browser")
    row.get_by_role("button", name="Rename").click()
    # The row's name became an input: it no longer matches by text.
    pg.get_by_label("New name").fill("renamed-in-browser")
    pg.locator("#experiments-table").get_by_role("button", name="Save").click()
    renamed = pg.locator("#experiments-table tr", has_text="renamed-in-browser")
    renamed.get_by_role("checkbox").check()
    pg.click("#delete-experiments")
    renamed.wait_for(state="detached")
    pg.check("#show-deleted")
    deleted = pg.locator("#experiments-table tr.deleted", has_text="renamed-in-browser")
    deleted.get_by_role("checkbox").check()
    pg.click("#restore-experiments")
    pg.locator("#experiments-table tr:not(.deleted)", has_text="renamed-in-browser").wait_for()
    stage = requests.get(f"{ui_server.url}/api/2.0/mlflow/experiments/get-by-name",
                         params={"experiment_name": "renamed-in-browser"}, timeout=10).json()
    assert stage["experiment"]["lifecycle_stage"] == "active"


def test_filter_runs_with_mlflow_grammar_and_see_server_errors(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    pg.fill("#runs-filter", "params.lr = '0.1'")
    pg.press("#runs-filter", "Enter")
    pg.wait_for_function("() => document.querySelectorAll('#runs-table a.run-link').length === 1")
    assert pg.locator("#runs-table a.run-link").all_inner_texts() == ["run-a"]
    pg.fill("#runs-filter", "params.lr === oops")
    pg.press("#runs-filter", "Enter")
    error = pg.locator("#runs-error [role=alert]")
    error.wait_for()
    assert "Invalid comparator '=='" in error.inner_text()  # the server's own message, in words


def test_sorting_by_a_metric_column_asks_the_server(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    with pg.expect_request(lambda r: r.url.endswith("runs/search") and "metrics.`loss` DESC" in (r.post_data or "")):
        pg.locator("#runs-table th button.sort", has_text="loss").click()
    pg.wait_for_function("() => document.querySelector('#runs-table th[aria-sort=descending]')?.textContent.includes('loss')")
    names = pg.locator("#runs-table a.run-link").all_inner_texts()
    assert names.index("run-b") < names.index("run-a")  # loss 4e-4 before 2e-4


def test_child_runs_nest_under_their_parent(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    assert pg.locator("#runs-table a.run-link", has_text="child-run").count() == 0
    pg.locator("#runs-table tr", has_text="parent-run").get_by_role("button", name="expand 1 child runs").click()
    child = pg.locator(f'#runs-table tr[data-run-id="{ui_server.ids["child"]}"]')
    assert child.get_attribute("data-depth") == "1"


def test_run_page_draws_the_chart_with_the_spike_in_its_band(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    pg.get_by_role("heading", name="run-a").wait_for()
    assert pg.locator("#params-table").inner_text().split() == ["lr", "0.1", "optimizer", "adam"]
    assert "mnist" in pg.locator("#datasets").inner_text()
    chart = _wait_drawn(pg, "loss")
    # The y scale reaches the one-step spike: it was kept by the bucket max, not sampled away.
    y_max = chart.evaluate("e => e._uplot.scales.y.max")
    assert y_max >= SPIKE_VALUE
    assert chart.evaluate("e => e._uplot.data.length") == 5  # x, line, EMA, band min, band max
    pg.evaluate("() => window.scrollTo(0, 0)")
    screenshot(pg, "run")
    chart.locator("canvas").scroll_into_view_if_needed()
    screenshot(pg, "chart")


def test_log_scale_and_time_axes_redraw(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    chart = _wait_drawn(pg, "loss")
    drawn = int(chart.get_attribute("data-drawn"))
    pg.get_by_label("log y").first.check()
    pg.wait_for_function("n => Number(document.querySelector('section.chart[data-metric=loss]').dataset.drawn) > n", arg=drawn)
    assert chart.evaluate("e => e._uplot.scales.y.distr") == 3
    pg.get_by_label("x axis").select_option("relative")
    pg.wait_for_function("() => document.querySelector('section.chart[data-metric=loss]')._uplot.series[0].label === 'seconds'")
    xs = chart.evaluate("e => e._uplot.data[0]")
    assert 0 <= xs[0] and xs[-1] < 100  # seconds since the run started, not steps


def test_zooming_refetches_detail(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    chart = _wait_drawn(pg, "loss")
    with pg.expect_request(lambda r: "get-history-bucketed" in r.url and "min_x=" in r.url):
        box = chart.locator(".u-over").bounding_box()
        pg.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + 50)
        pg.mouse.down()
        pg.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + 50, steps=5)
        pg.mouse.up()
    pg.get_by_role("button", name="Reset zoom").wait_for()
    pg.wait_for_function("() => { const d = document.querySelector('section.chart[data-metric=loss]')._uplot.data[0]; return d.length > 1 && d[d.length-1] - d[0] < 1000 }")


def test_edit_the_note(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['b']}")
    pg.click("#edit-note")
    pg.fill("#note-editor", "## Result\nbest **so far**")
    pg.click("#save-note")
    pg.locator("#note-view h2", has_text="Result").wait_for()
    assert pg.locator("#note-view strong").inner_text() == "so far"
    run = requests.get(f"{ui_server.url}/api/2.0/mlflow/runs/get", params={"run_id": ui_server.ids["b"]}, timeout=10).json()
    tags = {t["key"]: t["value"] for t in run["run"]["data"]["tags"]}
    assert tags["mlflow.note.content"] == "## Result\nbest **so far**"
    pg.reload()
    pg.locator("#note-view h2", has_text="Result").wait_for()


def test_compare_two_runs_marks_differences_and_overlays_metrics(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    for name in ("run-a", "run-b"):
        pg.get_by_label(f"select {name}").check()
    pg.click("#compare-runs")
    pg.locator("#compare-table").wait_for()
    q = urllib.parse.parse_qs(pg.url.split("?", 1)[1])
    assert set(json.loads(q["runs"][0])) == {ui_server.ids["a"], ui_server.ids["b"]}
    assert pg.locator("#compare-table tr.differs th", has_text="lr").count() == 1
    assert pg.locator("#compare-table tr:not(.differs) th", has_text="optimizer").count() == 1
    chart = _wait_drawn(pg, "loss")
    assert chart.evaluate("e => e._uplot.data.length") == 9  # x + 4 series per run, both runs
    screenshot(pg, "compare")


def test_artifacts_preview_and_download(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    tree = pg.locator("#artifact-tree")
    tree.get_by_role("button", name="config.json").click()
    pg.wait_for_function("() => document.querySelector('#artifact-preview pre')?.textContent.includes('\"layers\"')")
    tree.get_by_role("button", name="plot.png").click()
    pg.locator("#artifact-preview img.artifact-image").wait_for()
    tree.get_by_role("button", name="notes/").click()
    tree.get_by_role("button", name="readme.txt").click()
    pg.locator("#artifact-preview pre", has_text="hello from run-a").wait_for()
    screenshot(pg, "artifacts")
    with pg.expect_download() as dl:
        pg.click("#artifact-download")
    assert dl.value.suggested_filename == "readme.txt"
    assert open(dl.value.path(), "rb").read() == b"hello from run-a\n"


def test_an_mlflow_printed_run_link_opens_the_run(page, ui_server):
    # What MLflow clients print after a run: http://host:port/#/experiments/<id>/runs/<run_id>
    pg = page.page
    pg.goto(f"{ui_server.url}/#/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    pg.get_by_role("heading", name="run-a").wait_for()
    assert ui_server.ids["a"] in pg.locator("dl.overview").inner_text()


def test_table_csv_download_has_params_metrics_and_times(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    with pg.expect_download() as dl:
        pg.click("#download-csv")
    text = open(dl.value.path()).read().splitlines()
    assert text[0].startswith("run_id,name,experiment_id,status,user,start_time,end_time,duration_s")
    assert "metrics.loss" in text[0] and "params.lr" in text[0]
    assert any(line.startswith(ui_server.ids["a"] + ",run-a,") for line in text[1:])


def test_a_running_run_refreshes_itself_keeping_the_page(page, ui_server):
    from seed import Seeder

    sd = Seeder(ui_server.url)
    run = sd.run(ui_server.ids["exp"], "live-run", finished=False)
    rid = run["info"]["run_id"]
    sd.metrics(rid, "live", [1.0, 2.0, 3.0])
    # Listen from the start: a refresh already in flight when the new points are written also
    # brings them, so a listener added after the first draw could miss the request that did.
    asked: list[str] = []
    page.page.on("request", lambda r: "get-history-bucketed" in r.url and asked.append(r.url))
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{rid}")
    chart = _wait_drawn(pg, "live")
    assert chart.get_attribute("data-points") == "3"
    # View state that a refresh must keep. The new scale redraws the chart from a full fetch; on a loaded
    # machine its answer could come after the points below are written, and then it, not the incremental
    # refresh, would bring them: wait for it first.
    with pg.expect_response(lambda r: "get-history-bucketed" in r.url):
        pg.get_by_label("log y").first.check()
    asked.clear()
    sd.metrics(rid, "live", [4.0, 5.0], start_step=3)
    pg.wait_for_function("() => document.querySelector('section.chart[data-metric=live]').dataset.points === '5'",
                         timeout=20_000)
    assert any("min_x=3" in url for url in asked), asked  # only what is new: the points after step 2
    assert chart.evaluate("e => Array.from(e._uplot.data[0])") == [0, 1, 2, 3, 4]
    assert pg.get_by_label("log y").first.is_checked()
    assert pg.locator("#metrics-table").inner_text().split()[:3] == ["live", "5", "step"]
    sd.call("runs/update", {"run_id": rid, "status": "FINISHED"})
    pg.wait_for_function("() => document.getElementById('run-status').textContent === 'FINISHED'", timeout=20_000)


def test_metric_min_and_max_columns_on_request(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    pg.check("#show-minmax")
    row = pg.locator(f'#runs-table tr[data-run-id="{ui_server.ids["a"]}"]')
    cell = row.locator(f'td[data-extreme="{ui_server.ids["a"]}|loss|max"]')
    cell.wait_for()
    pg.wait_for_function("id => document.querySelector(`td[data-extreme=\"${id}|loss|max\"]`).textContent !== ''",
                         arg=ui_server.ids["a"])
    assert cell.inner_text() == "1000"  # the spike, not the latest value
    assert row.locator(f'td[data-extreme="{ui_server.ids["a"]}|loss|min"]').inner_text() == "2.0000e-4"


def test_the_keyboard_alone_opens_an_experiment_and_sorts(page, ui_server):
    pg = _open(page, ui_server, "/")
    pg.get_by_role("link", name="ui-walk").focus()
    pg.keyboard.press("Enter")
    pg.locator("#runs-table").wait_for()
    pg.locator("#runs-table th button.sort", has_text="Run").focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function("() => document.querySelector('#runs-table th[aria-sort=descending]')?.textContent.includes('Run')")


def test_dark_mode_keeps_text_readable(browser, ui_server):
    ctx = browser.new_context(viewport={"width": 1200, "height": 760}, color_scheme="dark")
    pg = ctx.new_page()
    try:
        pg.goto(f"{ui_server.url}/#/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
        _wait_drawn(pg, "loss")
        bg, fg = pg.evaluate("() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
        assert bg == "rgb(15, 20, 25)" and fg == "rgb(230, 237, 243)"
        axis = pg.evaluate("() => document.querySelector('section.chart[data-metric=loss]')._uplot.axes[1].stroke()")
        assert axis == fg  # axis labels drawn in the page's text colour, not uPlot's default black
        pg.locator('section.chart[data-metric="loss"]').scroll_into_view_if_needed()
        screenshot(pg, "run-dark")
    finally:
        ctx.close()


def test_compare_plots_a_param_against_a_metric(page, ui_server):
    ids = [ui_server.ids[k] for k in ("a", "b", "child")]
    pg = _open(page, ui_server, f"/compare-runs?runs={json.dumps(ids)}")
    scatter = pg.locator("#scatter")
    scatter.scroll_into_view_if_needed()
    pg.select_option("#scatter-x", "params\nlr")
    pg.select_option("#scatter-y", "loss")
    pg.wait_for_function("() => document.querySelector('#scatter').dataset.points === '3'")
    xs, ys = scatter.evaluate("e => [Array.from(e._uplot.data[0]), Array.from(e._uplot.data[1])]")
    assert xs == [0.01, 0.1, 0.5] and ys == [4.0e-4, 2.0e-4, 0.3]  # run-b, run-a, child-run by lr
    pg.select_option("#scatter-x", "params\noptimizer")  # categorical: the child run has none
    pg.wait_for_function("() => document.querySelector('#scatter').dataset.points === '2'")


def test_compare_groups_runs_by_a_param_into_a_mean_line_and_band(page, ui_server):
    ids = [ui_server.ids[k] for k in ("a", "b", "child")]
    pg = _open(page, ui_server, f"/compare-runs?runs={json.dumps(ids)}")
    chart = _wait_drawn(pg, "loss")
    drawn = int(chart.get_attribute("data-drawn"))
    pg.select_option("#group-by", "params\noptimizer")
    pg.wait_for_function("n => Number(document.querySelector('section.chart[data-metric=loss]').dataset.drawn) > n", arg=drawn)
    labels = chart.evaluate("e => e._uplot.series.map(s => s.label)")
    assert "optimizer=adam (2 runs, mean)" in labels and "optimizer=(none) (1 run, mean)" in labels
    data = chart.evaluate("e => e._uplot.data.map(a => Array.from(a))")
    assert len(data) == 1 + 4 * 2  # two groups, not three runs
    adam = labels.index("optimizer=adam (2 runs, mean)")
    assert max(v for v in data[adam + 3] if v is not None) == SPIKE_VALUE  # run-a's spike in the group's band
    last = [v for v in data[adam] if v is not None][-1]
    assert last == pytest.approx((1 / 5000 + 2 / 5000) / 2, rel=0.01)  # mean of run-a's and run-b's last values


def test_filter_and_sort_survive_a_reload(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}")
    pg.locator("#runs-table").wait_for()
    pg.fill("#runs-filter", "params.optimizer = 'adam'")
    pg.press("#runs-filter", "Enter")
    pg.wait_for_function("() => document.querySelectorAll('#runs-table a.run-link').length === 2")
    pg.locator("#runs-table th button.sort", has_text="lr").click()
    pg.wait_for_function("() => location.hash.includes('orderByKey=params.%60lr%60')")
    pg.reload()
    pg.wait_for_function("() => document.querySelectorAll('#runs-table a.run-link').length === 2")
    assert pg.input_value("#runs-filter") == "params.optimizer = 'adam'"
    assert pg.locator("#runs-table th[aria-sort=descending]").inner_text().startswith("lr")


def test_compare_draws_parallel_coordinates_of_differing_params(page, ui_server):
    ids = [ui_server.ids[k] for k in ("a", "b", "child")]
    pg = _open(page, ui_server, f"/compare-runs?runs={json.dumps(ids)}")
    holder = pg.locator("#parallel")
    holder.scroll_into_view_if_needed()
    pg.select_option("#parallel-metric", "loss")
    assert holder.get_attribute("data-lines") == "3"
    labels = holder.locator("svg > text").all_text_contents()
    assert "lr" in labels and "loss" in labels and "optimizer" in labels  # optimizer: adam vs none differs
    assert holder.locator("polyline title").all_text_contents() == ["run-a", "run-b", "child-run"]
    screenshot(pg, "compare-sweep")


def test_another_metric_as_the_x_axis(page, ui_server):
    pg = _open(page, ui_server, f"/experiments/{ui_server.ids['exp']}/runs/{ui_server.ids['a']}")
    chart = _wait_drawn(pg, "loss")
    pg.get_by_label("x axis").select_option("metric:accuracy")
    pg.wait_for_function("() => document.querySelector('section.chart[data-metric=loss]')._uplot.series[0].label === 'accuracy'")
    xs = chart.evaluate("e => Array.from(e._uplot.data[0])")
    # Each loss bucket sits at the accuracy logged at its step (accuracy = step / 100 for steps 0-99).
    assert xs == sorted(xs) and xs[-1] == 0.99 and 0.0 <= xs[0] < 0.2
    assert all(round(x * 100) == x * 100 or abs(round(x * 100) - x * 100) < 1e-9 for x in xs)
