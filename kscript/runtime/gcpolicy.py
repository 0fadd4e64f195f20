"""The garbage collector's thresholds while kscript runs.

Kamailio keeps every transaction (until its wait timer), every usrloc record and
every htable item in shared memory at no cost per message.  kscript keeps them as
Python objects, and with CPython's default thresholds (700, 10, 10) a growing table
of transactions makes the cyclic collector walk the whole heap again and again:
measured on the Debian cfg's stateful-404 path (benchmarks/run.py), about a third
of the CPU per message went to the collector.  A first-generation threshold of
10,000 keeps the same collections, about 14 times less often; memory grows by at
most the cyclic garbage of those allocations.

:func:`tune` is called when a script is loaded.  It only changes thresholds that
are still CPython's defaults (a program that set its own keeps them), once per
process, and not at all with ``KSCRIPT_GC=default`` in the environment.
"""

from __future__ import annotations

import gc
import os

__all__ = ["DEFAULT_THRESHOLDS", "KSCRIPT_THRESHOLDS", "tune"]

#: CPython's own thresholds (3.11)
DEFAULT_THRESHOLDS = (700, 10, 10)
#: what kscript sets instead
KSCRIPT_THRESHOLDS = (10000, 10, 10)

_done = False


def tune() -> bool:
    """Raise the first-generation threshold if it is CPython's default; True if set."""
    global _done
    if _done:
        return False
    _done = True
    if os.environ.get("KSCRIPT_GC", "").strip().lower() == "default":
        return False
    if gc.get_threshold() != DEFAULT_THRESHOLDS:
        return False
    gc.set_threshold(*KSCRIPT_THRESHOLDS)
    return True
