"""Enable an integration when its library is imported (``autolog()`` called before ``import xgboost``), as
MLflow does, so ``autolog()`` itself never imports libraries the program does not use (torch takes
seconds)."""

from __future__ import annotations

import importlib.abc
import sys
import threading

_lock = threading.Lock()


class _ThenEnable(importlib.abc.Loader):
    """The library's own loader, followed by the integration's enable()."""

    def __init__(self, loader, after):
        self.loader, self.after = loader, after

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.after()


class AfterImport(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.pending: dict[str, object] = {}

    def find_spec(self, fullname, path, target=None):
        after = self.pending.get(fullname)
        if after is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                self.pending.pop(fullname, None)
                spec.loader = _ThenEnable(spec.loader, after)
                return spec
        return None


_finder = AfterImport()


def when_imported(library: str, enable) -> None:
    """Call ``enable()`` now if ``library`` is imported, else right after it is."""
    if library in sys.modules:
        enable()
        return
    with _lock:
        _finder.pending[library] = enable
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def cancel(library: str) -> None:
    _finder.pending.pop(library, None)
