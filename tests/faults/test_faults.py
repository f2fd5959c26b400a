"""Every fault of the suite: nothing lost, nothing duplicated, exit within ASYNCCLIENT_EXIT_TIMEOUT + 2 s."""

from __future__ import annotations

import math

import pytest
from scenarios import EXIT_TIMEOUT, SCENARIOS, Bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    b = Bench(str(tmp_path_factory.mktemp("faults")))
    yield b
    b.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_fault(bench, scenario):
    result = scenario(bench)
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    if not math.isnan(result.exit_seconds):
        assert result.exit_seconds < EXIT_TIMEOUT + 2, result
