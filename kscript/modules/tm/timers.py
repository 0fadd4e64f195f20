"""tm's timers on the script clock (modules/tm/timer.c @5.6.3).

Only the timers with a visible effect are kept:

* the **final response timer** of each branch: ``fr_timer`` (ms) from the moment
  the request is sent, restarted with ``fr_inv_timer`` when an INVITE branch gets
  a provisional reply, capped by the transaction's maximum lifetime
  (``max_inv_lifetime`` / ``max_noninv_lifetime``); ``t_set_fr()`` changes it.
  On expiry the branch gets a local ``408 Request Timeout`` that goes through
  the reply logic (failure_route, relaying), and a branch that had a
  provisional reply is CANCELed;
* the **wait timer** (``wt_timer``): a finished transaction stays matchable
  (retransmissions, ACKs) that long, then it is removed.

Retransmission timers are not emulated (their datagrams are copies of what
was already sent).  Timers fire only when asked: :meth:`Script.tick` (or
:func:`kscript.testing.clock.advance_script`) runs every timer due at the
script clock's current time, in deadline order, each as one
:class:`~kscript.script.Result`.
"""

from __future__ import annotations

from .failure import uas_context
from .lookup import put_on_wait
from .transaction import RB_TIMEOUT, Transaction, Uac


def start_fr(tm, t: Transaction, uac: Uac, timeout: float | None = None) -> None:
    now = tm.now()
    deadline = now + (t.fr_timeout if timeout is None else timeout)
    uac.fr_deadline = min(deadline, t.end_of_life) if t.end_of_life else deadline


def change_fr(tm, t: Transaction, fr_inv: float | None, fr: float | None) -> None:
    """``change_fr``: new FR values for the transaction and its running timers."""
    now = tm.now()
    if fr_inv:
        t.fr_inv_timeout = fr_inv
    if fr:
        t.fr_timeout = fr
    for uac in t.uacs:
        if uac.fr_deadline is None:
            continue
        if "fr_inv" in uac.flags and fr_inv:
            uac.fr_deadline = now + fr_inv
        elif fr:
            uac.fr_deadline = min(now + fr, t.end_of_life) if t.end_of_life else now + fr


def due_timers(tm, now: float) -> list[tuple[float, int, Transaction, Uac]]:
    out = []
    for t in tm.table.all():
        for uac in t.uacs:
            if uac.fr_deadline is not None and uac.fr_deadline <= now:
                out.append((uac.fr_deadline, t.label, t, uac))
    out.sort(key=lambda x: (x[0], x[1], x[3].index))
    return out


def run_timers(tm, now: float) -> list:
    """Fire every final response timer due at ``now``; returns the Results."""
    from ...script import Result
    results = []
    fired: set[int] = set()
    while True:
        due = [d for d in due_timers(tm, now) if id(d[3]) not in fired]
        if not due:
            break
        _, _, t, uac = due[0]
        fired.add(id(uac))
        sink = uas_context(t, None)
        sink.route_type = "request"
        sink.sent = []
        sink.logs = []
        final_response_handler(tm, t, uac, sink)
        res = Result(sent=sink.sent, log=sink.logs, ctx=sink)
        if res.sent or res.log:
            results.append(res)
    tm.table.purge(now)
    return results


def final_response_handler(tm, t: Transaction, uac: Uac, sink) -> None:
    from .reply import fake_reply
    uac.fr_deadline = None
    uac.flags.add(RB_TIMEOUT)
    silent = (tm.param("noisy_ctimer") == 0 and "noisy_ctimer" not in t.flags and not t.is_local
              and t.is_invite and len(t.uacs) == 1 and t.on_failure is None and uac.last_received == 0)
    if silent:
        put_on_wait(tm, t)
        return
    fake_reply(tm, t, uac.index, 408, sink)
