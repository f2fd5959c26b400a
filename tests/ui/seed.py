"""Data for the browser tests, written through the server's REST API as any MLflow client would."""

from __future__ import annotations

import base64
import urllib.parse

import requests

XSS = "<img src=x onerror=alert(1)>"
# A 1x1 red PNG, for the image preview.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
SPIKE_STEP, SPIKE_VALUE, STEPS = 2_500, 1000.0, 5_000


class Seeder:
    def __init__(self, url: str):
        self.url = url
        self.s = requests.Session()

    def call(self, path: str, body: dict) -> dict:
        r = self.s.post(f"{self.url}/api/2.0/mlflow/{path}", json=body, timeout=30)
        r.raise_for_status()
        return r.json()

    def experiment(self, name: str) -> str:
        return self.call("experiments/create", {"name": name})["experiment_id"]

    def run(self, exp_id: str, name: str, params=None, tags=None, start_time=1_700_000_000_000,
            finished=True) -> dict:
        run = self.call("runs/create", {"experiment_id": exp_id, "run_name": name, "start_time": start_time,
                                        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]})["run"]
        rid = run["info"]["run_id"]
        if params:
            self.call("runs/log-batch", {"run_id": rid, "params": [{"key": k, "value": v} for k, v in params.items()]})
        if finished:
            self.call("runs/update", {"run_id": rid, "status": "FINISHED", "end_time": start_time + 60_000})
        return run

    def metrics(self, rid: str, key: str, values, start_step: int = 0, t0: int = 1_700_000_000_000) -> None:
        points = [{"key": key, "value": v, "timestamp": t0 + 10 * (start_step + i), "step": start_step + i}
                  for i, v in enumerate(values)]
        for i in range(0, len(points), 1000):
            self.call("runs/log-batch", {"run_id": rid, "metrics": points[i:i + 1000]})

    def artifact(self, run: dict, path: str, data: bytes) -> None:
        # mlflow-artifacts:/<exp>/<run>/artifacts -> the proxied artifact API.
        root = run["info"]["artifact_uri"].split(":", 1)[1].lstrip("/")
        quoted = urllib.parse.quote(f"{root}/{path}")
        r = self.s.put(f"{self.url}/api/2.0/mlflow-artifacts/artifacts/{quoted}", data=data, timeout=30)
        r.raise_for_status()


def seed(url: str) -> dict:
    """The walk's experiment (two comparable runs, a parent with a child, a spike, a note, a dataset,
    artifacts) and an experiment whose every user string is an XSS payload. Returns their ids."""
    sd = Seeder(url)
    exp = sd.experiment("ui-walk")
    a = sd.run(exp, "run-a", {"lr": "0.1", "optimizer": "adam"}, {"team": "vision"}, start_time=1_700_000_100_000)
    b = sd.run(exp, "run-b", {"lr": "0.01", "optimizer": "adam"}, {"team": "vision"}, start_time=1_700_000_050_000)
    parent = sd.run(exp, "parent-run", {"sweep": "yes"}, start_time=1_700_000_000_000)
    child = sd.run(exp, "child-run", {"lr": "0.5"}, {"mlflow.parentRunId": parent["info"]["run_id"]},
                   start_time=1_700_000_010_000)
    ra, rb = a["info"]["run_id"], b["info"]["run_id"]
    sd.metrics(ra, "loss", [SPIKE_VALUE if s == SPIKE_STEP else 1.0 / (1 + s) for s in range(STEPS)],
               t0=a["info"]["start_time"])
    sd.metrics(rb, "loss", [2.0 / (1 + s) for s in range(STEPS)])
    sd.metrics(ra, "accuracy", [s / 100 for s in range(100)])
    sd.metrics(child["info"]["run_id"], "loss", [0.3])
    sd.call("runs/set-tag", {"run_id": ra, "key": "mlflow.note.content", "value": "# Baseline\nFirst **try**."})
    sd.call("runs/log-inputs", {"run_id": ra, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
            "dataset": {"name": "mnist", "digest": "abc123", "source_type": "local", "source": "data.csv"}}]})
    sd.artifact(a, "notes/readme.txt", b"hello from run-a\n")
    sd.artifact(a, "config.json", b'{"lr": 0.1, "layers": [1, 2]}')
    sd.artifact(a, "plot.png", PNG)

    xexp = sd.experiment(XSS)
    # Keys are limited to [\w./ -] by MLflow's validation, so the payload sits in the values.
    x = sd.run(xexp, XSS, {"payload": XSS}, {"payload": XSS})
    rx = x["info"]["run_id"]
    sd.metrics(rx, "payload", [1.0, 2.0])
    sd.call("runs/set-tag", {"run_id": rx, "key": "mlflow.note.content",
                             "value": f"{XSS}\n\n<script>alert(2)</script>\n\n[link](javascript:alert(3))"})
    sd.call("runs/log-inputs", {"run_id": rx, "datasets": [{"tags": [], "dataset": {
        "name": XSS, "digest": "x1", "source_type": XSS, "source": XSS}}]})
    sd.artifact(x, f"{XSS}.txt", XSS.encode())
    return {"exp": exp, "a": ra, "b": rb, "parent": parent["info"]["run_id"], "child": child["info"]["run_id"],
            "xexp": xexp, "x": rx}
