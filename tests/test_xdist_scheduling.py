"""``tests/xdist_scheduling.py`` overrides ``_split_scope``, a private method of pytest-xdist's
schedulers: this pins the version it was written against and checks the units it makes."""

from __future__ import annotations

import importlib.metadata

from tests.conftest import keeps_together
from tests.xdist_scheduling import SuiteScheduling


def test_the_units_are_whole_browser_modules_and_single_other_tests() -> None:
    assert importlib.metadata.version("pytest-xdist") == "3.8.0"  # _split_scope is private
    # _split_scope reads only its node id and keeps_together: no workers are needed for it
    scheduling = SuiteScheduling.__new__(SuiteScheduling)
    scheduling._keeps_together = keeps_together
    unit = scheduling._split_scope
    assert unit("tests/browser/test_tools.py::test_a") == "tests/browser/test_tools.py"
    assert unit("tests/browser/test_tools.py::test_b[x]") == "tests/browser/test_tools.py"
    assert unit("tests/test_packaging.py::test_c") == "tests/test_packaging.py"
    assert unit("tests/test_sync.py::test_d") == "tests/test_sync.py::test_d"
    assert unit("tests/test_sync.py::test_e@mygroup") == "mygroup"  # xdist_group kept
