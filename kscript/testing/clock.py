"""A controllable clock for tests: time moves only when the test says so.

kscript reads time through one callable, ``script.clock`` (given to
:func:`kscript.load` as ``clock=``; ``time.time`` by default). A :class:`Clock`
is such a callable whose value changes only through :meth:`Clock.advance` and
:meth:`Clock.set`, so ``$Ts``/``$TS``/``$time(...)``, embedded Redis TTLs,
usrloc expiry and tm timers are testable without sleeping::

    clock = Clock("2024-03-01T12:00:00Z")
    script = kscript.load("kamailio.cfg", clock=clock)
    ...
    clock.advance(61)          # a minute later: Redis keys with EX 60 are gone

**The interface modules use** (kscript/modules/*):

* read the time only as ``ctx.script.clock()`` / ``self.script.clock()`` (float
  seconds since the epoch), at the moment it is needed -- never cache
  ``time.time`` or a value of it across messages;
* an embedded (fakeredis) server calls :func:`follow_clock` once when it is
  created: ``follow_clock(fake_server, lambda: script.clock())``, so TTLs
  expire on the script's time;
* a module with timers (tm's fr_timer/fr_inv_timer and ``t_set_fr``, usrloc's
  expiry timer, htable autoexpire...) defines ``on_clock(self, now)``; the
  scenario runner (and :func:`advance_script`) calls it on every loaded module
  after the clock moves. It may process messages (e.g. a tm timeout runs the
  failure_route and sends a 408) and returns a :class:`~kscript.script.Result`,
  a list of them, or None; those results are what an ``advance`` step's
  expectations are checked against.
"""

from __future__ import annotations

import datetime as _dt
import re
import time as _time
from typing import Callable

__all__ = ["Clock", "parse_time", "parse_duration", "follow_clock", "advance_script", "DEFAULT_START"]

#: Where a scenario's clock starts unless it says otherwise (2023-11-14T22:13:20Z),
#: so that anything derived from the time is the same on every run.
DEFAULT_START = 1_700_000_000.0

_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DUR_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_time(value) -> float:
    """Seconds since the epoch from a number or an ISO 8601 text (``2024-03-01T12:00:00Z``;
    no zone means UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            dt = _dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a time: {value!r} (give seconds since the epoch or ISO 8601, "
                             f"e.g. 2024-03-01T12:00:00Z)") from None
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return dt.timestamp()


def parse_duration(value) -> float:
    """Seconds from a number or a text like ``90``, ``1.5s``, ``250ms``, ``5m``, ``2h``, ``1d``."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (e.g. 30, 1.5s, 250ms, 5m, 2h, 1d)")
    return float(m.group(1)) * _DUR_UNITS[m.group(2)]


class Clock:
    """A time source that stands still until told to move.

    ``Clock()`` starts at :data:`DEFAULT_START`; ``Clock("2024-03-01T12:00:00Z")`` or
    ``Clock(1709294400)`` elsewhere; ``Clock.now()`` at the real current time.
    Calling the clock returns the current time in seconds (float), like ``time.time``.
    """

    __slots__ = ("_t", "_listeners")

    def __init__(self, start=None):
        self._t = DEFAULT_START if start is None else parse_time(start)
        self._listeners: list[Callable[[float], None]] = []

    @classmethod
    def now(cls) -> "Clock":
        return cls(_time.time())

    def __call__(self) -> float:
        return self._t

    @property
    def time(self) -> float:
        return self._t

    def advance(self, seconds) -> float:
        """Move forward by ``seconds`` (a number or a duration text); returns the new time."""
        s = parse_duration(seconds)
        if s < 0:
            raise ValueError("a clock cannot go backwards (use set())")
        self._t += s
        self._notify()
        return self._t

    def set(self, when) -> float:
        """Jump to an absolute time (number or ISO 8601 text)."""
        self._t = parse_time(when)
        self._notify()
        return self._t

    def on_change(self, fn: Callable[[float], None]) -> None:
        """Call ``fn(now)`` every time the clock moves."""
        self._listeners.append(fn)

    def _notify(self) -> None:
        for fn in list(self._listeners):
            fn(self._t)

    def isoformat(self) -> str:
        return _dt.datetime.fromtimestamp(self._t, _dt.timezone.utc).isoformat().replace("+00:00", "Z")

    def __repr__(self) -> str:
        return f"Clock({self.isoformat()!r})"


# ---------------------------------------------------------------- embedded Redis
def follow_clock(server, clock: Callable[[], float]) -> None:
    """Make a ``fakeredis.FakeServer`` expire keys on ``clock`` instead of the real time.

    fakeredis stamps every database with ``time.time()`` before each command and
    compares key deadlines with that stamp; here each database's stamp becomes a
    read of ``clock`` (writes are ignored). Existing and future databases of the
    server are covered; other FakeServers are not affected.
    """
    from collections import defaultdict

    dbs = server.dbs
    for db in list(dbs.values()):
        _clock_db(db, clock)
    if isinstance(dbs, defaultdict) and dbs.default_factory is not None:
        make = dbs.default_factory

        def factory():
            return _clock_db(make(), clock)

        dbs.default_factory = factory


_CLOCKED: dict[type, type] = {}


def _clock_db(db, clock):
    base = type(db)
    if getattr(base, "_kscript_clocked", False):
        db._kscript_clock = clock
        return db
    cls = _CLOCKED.get(base)
    if cls is None:
        def _get(self):
            return self._kscript_clock()

        def _set(self, value):  # fakeredis writes time.time() here before each command
            pass

        cls = type(f"Clocked{base.__name__}", (base,), {"time": property(_get, _set), "_kscript_clocked": True})
        _CLOCKED[base] = cls
    db.__dict__.pop("time", None)
    db.__class__ = cls
    db._kscript_clock = clock
    return db


# ---------------------------------------------------------------- module timers
def advance_script(script, seconds) -> list:
    """Advance ``script.clock`` (a :class:`Clock`) and run the loaded modules' timers.

    Returns the :class:`~kscript.script.Result` objects the timers produced (e.g. a
    tm final-response timeout that ran a failure_route)."""
    clock = script.clock
    if not isinstance(clock, Clock):
        raise TypeError("the script was not loaded with a kscript.testing.Clock (load(..., clock=Clock()))")
    now = clock.advance(seconds)
    return run_timers(script, now)


def run_timers(script, now: float) -> list:
    out = []
    for mod in list(getattr(script, "modules", {}).values()):
        hook = getattr(mod, "on_clock", None)
        if hook is None:
            continue
        r = hook(now)
        if r is None:
            continue
        if isinstance(r, (list, tuple)):
            out.extend(x for x in r if x is not None)
        else:
            out.append(r)
    return out
