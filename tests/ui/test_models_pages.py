"""The Models pages in a real browser: registered models, versions, an experiment's logged models, with
data written by MLflow's own client (MLflow 3's LoggedModels and the Model Registry) to our server."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from ui_procs import screenshot, start_ui, stop

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def models_server(tmp_path_factory):
    srv = start_ui(tmp_path_factory.mktemp("ui-models"))
    client = MlflowClient(tracking_uri=srv.url, registry_uri=srv.url)
    exp = client.create_experiment("models-walk")
    run = client.create_run(exp, run_name="trainer")
    rid = run.info.run_id
    model = client.create_logged_model(exp, name="classifier", source_run_id=rid,
                                       params={"C": "0.5", "penalty": "l2"})
    client.log_metric(rid, "accuracy", 0.93, step=3, model_id=model.model_id)
    folder = tmp_path_factory.mktemp("model-files")
    (folder / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    client.log_model_artifacts(model.model_id, str(folder))
    client.finalize_logged_model(model.model_id, "READY")
    client.set_terminated(rid)
    client.create_registered_model("churn", description=f"predicts churn {XSS}")
    for _ in range(2):
        client.create_model_version("churn", source=f"models:/{model.model_id}", run_id=rid, model_id=model.model_id)
    client.set_registered_model_alias("churn", "champion", "1")
    client.create_registered_model("fraud")
    srv.ids = {"exp": exp, "run": rid, "model_id": model.model_id}
    yield srv
    stop(srv.proc)


def test_registered_models_list_search_and_open(page, models_server):
    pg = page.page
    pg.goto(f"{models_server.url}/#/")
    pg.click("#nav-models")
    table = pg.locator("#models-table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 2
    churn = table.locator('tr[data-model="churn"]')
    assert "Version 2" in churn.inner_text() and "@champion: v1" in churn.inner_text()
    assert XSS in churn.inner_text()  # user text stays text
    pg.fill("#model-search", "fra")
    pg.press("#model-search", "Enter")
    pg.wait_for_function("() => document.querySelectorAll('#models-table tbody tr').length === 1")
    assert table.locator('tr[data-model="fraud"]').count() == 1
    screenshot(pg, "models")
    assert page.errors == []


def test_model_page_versions_description_and_version_actions(page, models_server):
    pg = page.page
    pg.goto(f"{models_server.url}/#/models/churn")
    versions = pg.locator("#versions-table tbody tr")
    versions.first.wait_for()
    assert versions.count() == 2
    assert "@champion" in pg.locator('#versions-table tr[data-version="1"]').inner_text()
    pg.click("#edit-description")
    pg.fill("#description-editor", "predicts churn, v2")
    pg.click("#save-description")
    pg.wait_for_function("() => document.getElementById('description').textContent === 'predicts churn, v2'")
    client = MlflowClient(tracking_uri=models_server.url, registry_uri=models_server.url)
    assert client.get_registered_model("churn").description == "predicts churn, v2"

    pg.click('#versions-table tr[data-version="2"] a')
    pg.locator("#version-run").wait_for()
    assert pg.locator("#version-model-id").inner_text() == models_server.ids["model_id"]
    pg.fill("#alias-input", "challenger")
    pg.click("#add-alias")
    pg.wait_for_function("() => document.getElementById('version-aliases').textContent.includes('@challenger')")
    pg.select_option("#stage-select", "Staging")
    pg.click("#transition-stage")
    pg.wait_for_function("() => document.getElementById('stage-select').value === 'Staging'")
    mv = client.get_model_version("churn", "2")
    assert mv.current_stage == "Staging" and "challenger" in mv.aliases
    screenshot(pg, "model-version")
    pg.click('button[aria-label="remove alias challenger"]')
    pg.wait_for_function("() => !document.getElementById('version-aliases').textContent.includes('@challenger')")
    assert "challenger" not in client.get_model_version("churn", "2").aliases
    pg.click("#version-run")  # the source run opens, and lists the model it produced
    pg.locator("#run-logged-models a").wait_for()
    assert pg.locator("#run-logged-models").inner_text().startswith("classifier")
    assert page.errors == []


def test_logged_models_of_an_experiment_and_one_model(page, models_server):
    pg = page.page
    ids = models_server.ids
    pg.goto(f"{models_server.url}/#/experiments/{ids['exp']}")
    pg.click("#experiment-models")
    row = pg.locator(f'#logged-models-table tr[data-model-id="{ids["model_id"]}"]')
    row.wait_for()
    assert "READY" in row.inner_text() and "0.93" in row.inner_text()
    row.locator("a").first.click()
    pg.locator("#logged-model-params").wait_for()
    assert pg.locator("#logged-model-params").inner_text().split() == ["C", "0.5", "penalty", "l2"]
    assert "accuracy" in pg.locator("#logged-model-metrics").inner_text()
    pg.get_by_role("button", name="MLmodel").click()
    pg.locator("#artifact-preview pre").wait_for()
    assert "python_function" in pg.locator("#artifact-preview pre").inner_text()
    with pg.expect_download() as dl:
        pg.click("#artifact-download")
    assert open(dl.value.path()).read() == "flavors:\n  python_function: {}\n"
    assert page.errors == []
