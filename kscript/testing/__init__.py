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

__all__ = [
    "Clock", "advance_script", "follow_clock", "expect", "Expect", "KscriptAssertionError", "assert_reply",
    "assert_no_reply", "assert_forwarded", "assert_not_forwarded", "assert_log", "assert_no_log",
    "assert_dropped", "assert_routes", "assert_pv", "explain_result", "Runner", "Coverage", "RunTracer",
    "load_file", "record",
]

# Imported when first used: the pytest plugin (kscript.testing.pytest_plugin) is loaded by
# every pytest run, most of which never touch kscript.
_WHERE = {
    "Clock": "clock", "advance_script": "clock", "follow_clock": "clock",
    "Runner": "runner", "Coverage": "coverage", "RunTracer": "trace", "load_file": "scenario", "record": "record",
    **{name: "assertions" for name in (
        "Expect", "KscriptAssertionError", "assert_dropped", "assert_forwarded", "assert_log", "assert_no_log",
        "assert_no_reply", "assert_not_forwarded", "assert_pv", "assert_reply", "assert_routes", "expect",
        "explain_result")},
}


def __getattr__(name):
    sub = _WHERE.get(name)
    if sub is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{sub}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
