"""An import SIGKILLed midway, then run again, ends equal to a clean import; a third run copies nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack

from tests.migrate.mlflow_data import differences, populate, snapshot
from tests.migrate.procs import asyncclient_server, run_cli

RUNS = 12


def _stored_runs(db: str) -> tuple[int, int]:
    """(runs created, runs finished with their digest tag) in an asyncclient server's SQLite file."""
    if not os.path.exists(db):
        return 0, 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            created = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            done = conn.execute("SELECT count(*) FROM tags WHERE key = 'asyncclient.import.digest'").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0, 0
    return created, done


def test_import_killed_midway_then_rerun_equals_a_clean_import(tmp_path):
    source = f"sqlite:///{tmp_path}/mlflow.db"
    populate(source, runs=(RUNS // 3,) * 3, steps=600)
    with ExitStack() as stack:
        resumed = stack.enter_context(asyncclient_server(str(tmp_path / "resumed")))
        clean = stack.enter_context(asyncclient_server(str(tmp_path / "clean")))
        db = str(tmp_path / "resumed" / "asyncclient.db")
        proc = subprocess.Popen([sys.executable, "-m", "asyncclient.cli", "import", source, "--to", resumed,
                                 "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while _stored_runs(db)[0] < 2 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the import ended before it could be killed midway"
        created, done = _stored_runs(db)
        assert 0 < created and done < RUNS

        report = run_cli("import", source, "--to", resumed).stdout
        assert f"{RUNS - created} new runs" in report
        run_cli("import", source, "--to", clean)
        expected = snapshot(source)
        assert not differences(snapshot(resumed), expected)
        assert not differences(snapshot(clean), expected)
        again = run_cli("import", source, "--to", resumed).stdout
        assert f"0 new runs, 0 updated runs; {RUNS} runs already up to date" in again
