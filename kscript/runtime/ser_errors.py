"""Kamailio's internal error codes and the replies they become (core/error.c@5.6.3
``err2reason_phrase``), shared by sl's ``sl_reply_error`` and tm's error replies."""

from __future__ import annotations

E_UNSPEC = -1

_ERRORS = {
    -477: ("Unfortunately error on sending to next hop occurred", 477),
    -478: ("Unresolvable destination", 478),
    -400: ("Bad Request", 400),
    -479: ("Regretfully, we were not able to process the URI", 479),
    -9: ("Transaction tuple incomplete", 400),
    -13: ("Bad To", 400),
    -11: ("Error in external logic", 500),
    -12: ("Forking capacity exceeded", 500),
    -15: ("Invalid character in q parameter", 400),
    -16: ("Empty q parameter", 400),
    -17: ("Q parameter too big", 400),
    -18: ("Decimal part missing in q", 400),
    -487: ("Transaction canceled", 487),
    0: ("No error", 500),
}


def err2reason(error: int, signature: str) -> tuple[int, str]:
    """(SIP code, reason phrase) for internal error ``error``; ``signature`` is "SL" or "TM"."""
    text, code = _ERRORS.get(error, ("I'm terribly sorry, server error occurred", 500))
    return code, f"{text} ({-error}/{signature})"
