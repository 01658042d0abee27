"""How ``./scripts/test`` deals the suite out to its pytest-xdist workers (``--dist loadgroup``,
used through ``pytest_xdist_make_scheduler`` in tests/conftest.py).

pytest-xdist 3.8 groups ``xdist_group`` tests by renaming their node ids, which pytest 9
ignores: under pytest 9.2 every test was dealt out alone, so a browser module's tests ran on
both workers, each starting the module's ``shared_server``, and tests went out in collection
order, a long one collected late (``tests/upgrade`` has some) running alone at the end.
``SuiteScheduling`` forms the units from the node ids instead: each module for which
``keeps_together(module)`` is true is one unit (its module- and package-scoped fixtures are
built once), every other test is a unit of its own; units go out in collection order, which
the workers have sorted (``pytest_collection_modifyitems``: browser tests first, then the
``slow`` ones, longest work first so that no long test is left for the end).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadGroupScheduling


class SuiteScheduling(LoadGroupScheduling):
    """``loadgroup`` with module units for the modules ``keeps_together`` names, in
    collection order (xdist's reordering by unit size is turned off)."""

    def __init__(self, config: pytest.Config, log: Producer | None,
                 keeps_together: Callable[[str], bool]) -> None:
        super().__init__(config, log)
        self._keeps_together = keeps_together
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        scope = super()._split_scope(nodeid)  # an ``@group`` suffix, should xdist add one
        if scope != nodeid:
            return scope
        module = nodeid.split("::", 1)[0]
        return module if self._keeps_together(module) else nodeid
