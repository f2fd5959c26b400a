"""``log_figure``, ``log_image`` and ``log_table`` through asyncclient's client into a proxying asyncclient
server, read back with MLflow's own client; a missing library is named with the extra that provides it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from artifact_fixtures import REPO_ROOT, _stop, start_server  # noqa: E402
from PIL import Image  # noqa: E402

import asyncclient  # noqa: E402


@pytest.fixture(scope="module")
def media_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    server = start_server(root / "server", "--artifacts-destination", str(root / "store"))
    yield server
    _stop(server.proc)


@pytest.fixture
def run_on_server(media_server, point_clients):
    server = media_server
    point_clients(server.url)
    with asyncclient.start_run() as run:
        yield server, run.info.run_id


def _read(run_id: str, path: str, tmp_path) -> bytes:
    local = mlflow.MlflowClient().download_artifacts(run_id, path, str(tmp_path))
    return open(local, "rb").read()


def test_log_figure_stores_the_rendered_png(run_on_server, tmp_path):
    _, run_id = run_on_server
    fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
    ax.plot([0, 1, 2], [2, 1, 3])
    asyncclient.log_figure(fig, "plots/curve.png")
    plt.close(fig)

    image = Image.open(io.BytesIO(_read(run_id, "plots/curve.png", tmp_path)))
    assert (image.format, image.size) == ("PNG", (200, 150))


def test_log_figure_refuses_what_is_not_a_figure(run_on_server):
    with pytest.raises(TypeError, match="Unsupported figure object type"):
        asyncclient.log_figure({"not": "a figure"}, "x.png")


def test_log_image_numpy_floats_become_8_bit_pixels(run_on_server, tmp_path):
    _, run_id = run_on_server
    pixels = np.linspace(0, 1, 4 * 5 * 3).reshape(4, 5, 3)
    asyncclient.log_image(pixels, "images/grad.png")

    stored = np.asarray(Image.open(io.BytesIO(_read(run_id, "images/grad.png", tmp_path))))
    assert stored.shape == (4, 5, 3)
    assert (stored == (pixels * 255).astype(np.uint8)).all()


def test_log_image_pil_image_keeps_its_pixels(run_on_server, tmp_path):
    _, run_id = run_on_server
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8))
    asyncclient.log_image(image, "images/gray.png")
    stored = Image.open(io.BytesIO(_read(run_id, "images/gray.png", tmp_path)))
    assert np.asarray(stored).ravel().tolist() == list(range(64))


def test_log_image_refuses_out_of_range_integers_at_the_call(run_on_server):
    with pytest.raises(ValueError, match=r"out of acceptable range \[0, 255\]"):
        asyncclient.log_image(np.array([[0, 256]]), "bad.png")


def test_log_table_is_read_by_mlflow_load_table_and_appends(run_on_server):
    _, run_id = run_on_server
    asyncclient.log_table({"inputs": ["a", "b"], "score": [0.5, 0.25]}, "eval/results.json")
    asyncclient.log_table(pd.DataFrame({"inputs": ["c"], "score": [1.0]}), "eval/results.json")
    asyncclient.flush()

    table = mlflow.load_table("eval/results.json", run_ids=[run_id])
    assert table.to_dict("list") == {"inputs": ["a", "b", "c"], "score": [0.5, 0.25, 1.0]}
    tag = mlflow.MlflowClient().get_run(run_id).data.tags["mlflow.loggedArtifacts"]
    assert json.loads(tag) == [{"path": "eval/results.json", "type": "table"}]


def test_log_table_parquet_round_trips(run_on_server):
    _, run_id = run_on_server
    asyncclient.log_table(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}), "t.parquet")
    asyncclient.flush()  # MLflow's load_table finds runs by the mlflow.loggedArtifacts tag
    table = mlflow.load_table("t.parquet", run_ids=[run_id])
    assert table.to_dict("list") == {"x": [1, 2], "y": ["a", "b"]}


def test_log_table_refuses_other_file_types(run_on_server):
    with pytest.raises(ValueError, match="either '.json' or '.parquet'"):
        asyncclient.log_table({"a": [1]}, "t.csv")


@pytest.mark.parametrize("hidden, call, package", [
    ("PIL", "asyncclient.log_image(numpy.zeros((2, 2)), 'x.png')", "pillow"),
    ("pandas", "asyncclient.log_table({'a': [1]}, 't.json')", "pandas"),
])
def test_a_missing_library_is_named_with_the_extra(run_on_server, hidden, call, package):
    server, run_id = run_on_server
    # A fresh interpreter in which the library cannot be imported (a None entry in sys.modules makes
    # `import` raise ImportError, as when it is not installed).
    script = textwrap.dedent(f"""
        import sys
        sys.modules[{hidden!r}] = None
        import numpy
        import asyncclient
        asyncclient.set_tracking_uri({server.url!r})
        with asyncclient.start_run(run_id={run_id!r}):
            try:
                {call}
            except asyncclient.MlflowException as e:
                print("ERROR:", e.message)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=REPO_ROOT, env={**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)})
    assert f"needs the '{package}' package" in out.stdout, out.stdout + out.stderr
    assert "pip install 'asyncclient[media]'" in out.stdout
