"""``python -m asyncclient.patch script.py [args...]`` (or ``-m module``): run an unedited MLflow script
with ``patch_mlflow()`` in effect, as ``python -m cProfile`` runs a script under the profiler."""

from __future__ import annotations

import os
import runpy
import sys

from asyncclient.patch import patch_mlflow

USAGE = "usage: python -m asyncclient.patch script.py [args...]  |  python -m asyncclient.patch -m module [args...]"


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)
    patch_mlflow()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        # As `python script.py` does: the script's folder first on the path, not the current one.
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
