"""The kscript pytest plugin (entry point ``pytest11: kscript``), installed with kscript.

* collects ``*.kst.yaml`` scenario files: one test item per scenario (YAML
  document), failures reported as the scenario runner explains them;
* fixtures: ``kscript_load(path, defines=..., redis=..., mocks=..., clock=...)`` -- a
  factory returning a loaded :class:`~kscript.script.Script` (embedded Redis, fresh
  per test, unless ``--kscript-redis URL`` / ini ``kscript_redis``), closed after
  the test; ``kscript_clock`` -- the test's :class:`~kscript.testing.clock.Clock`
  (the scripts ``kscript_load`` gives use it);
* options: ``--kscript-redis URL`` (ini ``kscript_redis``), ``--kscript-coverage``
  (ini ``kscript_coverage``) with ``--kscript-coverage-html DIR``, ``--kscript-trace DIR``.

Assertion helpers live in :mod:`kscript.testing` (``expect(result).reply(404)``,
``assert_reply(result, 404)``...).

Example test::

    from kscript.sip import request
    from kscript.testing import expect

    def test_options_keepalive(kscript_load):
        script = kscript_load("kamailio.cfg", mocks={"sl_send_reply": 1})
        result = script.process(request("OPTIONS", "sip:127.0.0.1"), src="udp:10.0.0.1:5060")
        expect(result).log("keepalive").not_forwarded()
"""

from __future__ import annotations

import os
import sys

import pytest

_COV_KEY = pytest.StashKey[object]()


def _skip_assert_rewriting_of_kscript() -> None:
    """pytest rewrites the ``assert`` statements of every module of a distribution that
    declares a pytest plugin -- for kscript, the whole interpreter (parser, runtime, SIP,
    modules: 80-odd modules re-parsed and re-compiled at each run unless pytest can cache
    them, ~0.4 s), for the two internal ``assert`` it has. Only test modules and conftest
    files are worth it: kscript's helpers raise their own :class:`KscriptAssertionError`.
    (The already imported kscript, kscript.errors, kscript.testing and this module stay
    rewritten; without pytest's rewrite hook, or with another one, nothing changes.)"""
    for finder in sys.meta_path:
        if type(finder).__name__ != "AssertionRewritingHook":
            continue
        must = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(must, set) and "kscript" in must and isinstance(cache, dict):
            must.discard("kscript")
            cache.clear()


_skip_assert_rewriting_of_kscript()


def pytest_addoption(parser):
    group = parser.getgroup("kscript", "kscript: Kamailio cfg tests")
    group.addoption("--kscript-redis", dest="kscript_redis", metavar="URL", default=None,
                    help="run kscript scripts against this Redis (redis://host:port/db) instead of an embedded "
                         "one; every declared ndb_redis server's database is FLUSHDB'ed before each test")
    parser.addini("kscript_redis", help="like --kscript-redis", default=None)
    group.addoption("--kscript-coverage", dest="kscript_coverage", action="store_true", default=None,
                    help="report which cfg lines and if/switch branches the tests ran")
    parser.addini("kscript_coverage", type="bool", help="like --kscript-coverage", default=False)
    group.addoption("--kscript-coverage-html", dest="kscript_coverage_html", metavar="DIR", default=None,
                    help="also write an HTML route-coverage report into DIR (implies --kscript-coverage)")
    group.addoption("--kscript-trace", dest="kscript_trace", metavar="DIR", default=None,
                    help="write a cfgt-compatible JSON per message of each scenario into DIR")


def _redis_opt(config) -> str | None:
    return config.getoption("kscript_redis") or config.getini("kscript_redis") or None


def pytest_configure(config):
    config.addinivalue_line("markers", "kscript_scenario: a *.kst.yaml scenario collected by kscript")
    want = (config.getoption("kscript_coverage") or config.getoption("kscript_coverage_html")
            or config.getini("kscript_coverage"))
    if want:
        from .coverage import Coverage
        config.stash[_COV_KEY] = Coverage()


def _coverage(config):
    return config.stash.get(_COV_KEY, None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    cov = _coverage(config)
    if cov is None:
        return
    terminalreporter.write_sep("-", "kscript route coverage")
    for line in cov.summary().split("\n")[1:]:
        terminalreporter.write_line(line)
    html_dir = config.getoption("kscript_coverage_html")
    if html_dir:
        terminalreporter.write_line(f"HTML report: {cov.write_html(html_dir)}")


# ---------------------------------------------------------------- scenario files
def pytest_collect_file(file_path, parent):
    name = file_path.name
    if name.endswith((".kst.yaml", ".kst.yml")):
        return KstFile.from_parent(parent, path=file_path)
    return None


class KstFailure(Exception):
    """A scenario failed; ``text`` is the runner's explanation."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class KstFile(pytest.File):
    def collect(self):
        from .scenario import ScenarioFileError, load_file

        try:
            scenarios = load_file(str(self.path))
        except ScenarioFileError as e:
            yield KstInvalid.from_parent(self, name="(invalid scenario file)", error=e)
            return
        for sc in scenarios:
            item = KstItem.from_parent(self, name=sc.name, scenario=sc)
            item.add_marker(pytest.mark.kscript_scenario)
            if sc.xfail:
                item.add_marker(pytest.mark.xfail(reason=sc.xfail, strict=True, raises=KstFailure))
            yield item


class KstInvalid(pytest.Item):
    """Stands for a scenario file that does not load: fails with the ``file:line`` errors."""

    def __init__(self, *, error, **kw):
        super().__init__(**kw)
        self.error = error

    def runtest(self):
        raise KstFailure(f"invalid scenario file:\n{self.error}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, KstFailure):
            return excinfo.value.text
        return super().repr_failure(excinfo)

    def reportinfo(self):
        line = self.error.errors[0].line if self.error.errors else None
        return self.path, (line - 1) if line else None, "invalid scenario file"


class KstItem(pytest.Item):
    """One scenario (a YAML document of a ``*.kst.yaml`` file)."""

    def __init__(self, *, scenario, **kw):
        super().__init__(**kw)
        self.scenario = scenario

    def runtest(self):
        from ..errors import KscriptError
        from .runner import Runner, StepFailed

        cfg = self.config
        trace = cfg.getoption("kscript_trace")
        if trace:
            os.makedirs(trace, exist_ok=True)
        runner = Runner(redis=_redis_opt(cfg), coverage=_coverage(cfg), trace_dir=trace)
        reason = runner.skip_reason(self.scenario)
        if reason:
            pytest.skip(reason)
        try:
            runner._play(self.scenario)
        except StepFailed as e:
            raise KstFailure(e.text) from None
        except KscriptError as e:
            sc = self.scenario
            raise KstFailure(f"{sc.file}:{sc.line}: scenario {sc.name!r} could not run:\n  {e}") from None

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, KstFailure):
            return excinfo.value.text
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def kscript_clock():
    """A :class:`~kscript.testing.clock.Clock` for this test (starts at 2023-11-14T22:13:20Z);
    scripts from ``kscript_load`` read their time from it."""
    from .clock import Clock
    return Clock()


@pytest.fixture
def kscript_load(request, kscript_clock):
    """Factory: ``kscript_load(path, defines=(), redis=None, mocks=None, clock=None, tracer=None)``
    -> a loaded Script, closed after the test.

    A relative ``path`` is looked up next to the test file first, then in the current
    directory. ``redis`` defaults to ``--kscript-redis``/ini ``kscript_redis``, else an
    embedded server that is fresh for every script. The script is traced so that the
    assertion helpers can show the cfg lines that ran (``trace=False`` to skip that)."""
    import kscript

    from ..runtime.tracing import MultiTracer
    from .expectations import redis_server_names
    from .trace import RunTracer

    scripts = []
    cov = _coverage(request.config)
    default_redis = _redis_opt(request.config)
    base = os.path.dirname(str(request.path)) if getattr(request, "path", None) else os.getcwd()

    def load(path, defines=(), redis=None, mocks=None, clock=None, tracer=None, trace=True):
        p = os.fspath(path)
        if not os.path.isabs(p) and os.path.exists(os.path.join(base, p)):
            p = os.path.join(base, p)
        mode = redis or default_redis or "embedded"
        rt = RunTracer(auto_begin=True) if trace else None
        tracers = [t for t in (rt, cov, tracer) if t is not None]
        tr = None if not tracers else tracers[0] if len(tracers) == 1 else MultiTracer(*tracers)
        script = kscript.load(p, defines=list(defines), redis=mode, mocks=mocks,
                              clock=clock if clock is not None else kscript_clock, tracer=tr)
        scripts.append(script)
        if rt is not None:
            rt.script = script
        if cov is not None:
            cov.add_script(script)
        if mode != "embedded" and "ndb_redis" in script.modules:
            for name in redis_server_names(script):
                script.redis(name).flushdb()
        return script

    yield load
    for s in scripts:
        try:
            s.close()
        except Exception:  # a failing close must not hide the test's own outcome
            pass
