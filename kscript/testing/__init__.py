"""Regression tests for kamailio.cfg: scenarios, a pytest plugin, mocks, a clock,
route coverage, cfgt-compatible traces and recording.

* ``*.kst.yaml`` scenarios: :mod:`kscript.testing.scenario` (format),
  :mod:`kscript.testing.runner` (``kscript test``);
* Python tests: the ``kscript_load`` fixture (:mod:`kscript.testing.pytest_plugin`)
  and the assertion helpers below;
* :class:`Clock` (time that moves only when told), :class:`Coverage`,
  :class:`RunTracer` (cfgt flows), :func:`record`.

>>> from kscript.testing import Clock
>>> c = Clock("2024-03-01T12:00:00Z"); c.advance("90s"); c.isoformat()
1709294490.0
'2024-03-01T12:01:30Z'
"""

from __future__ import annotations

from .assertions import (Expect, KscriptAssertionError, assert_dropped, assert_forwarded, assert_log,
                         assert_no_log, assert_no_reply, assert_not_forwarded, assert_pv, assert_reply,
                         assert_routes, expect, explain_result)
from .clock import Clock, advance_script, follow_clock

__all__ = [
    "Clock", "advance_script", "follow_clock", "expect", "Expect", "KscriptAssertionError", "assert_reply",
    "assert_no_reply", "assert_forwarded", "assert_not_forwarded", "assert_log", "assert_no_log",
    "assert_dropped", "assert_routes", "assert_pv", "explain_result", "Runner", "Coverage", "RunTracer",
    "load_file", "record",
]


def __getattr__(name):
    if name == "Runner":
        from .runner import Runner
        return Runner
    if name == "Coverage":
        from .coverage import Coverage
        return Coverage
    if name == "RunTracer":
        from .trace import RunTracer
        return RunTracer
    if name == "load_file":
        from .scenario import load_file
        return load_file
    if name == "record":
        from .record import record
        return record
    raise AttributeError(name)
