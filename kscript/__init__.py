"""kscript: run Kamailio 5.6 configurations offline, with Redis built in.

Public API::

    script = kscript.load("kamailio.cfg", defines=["WITH_X"], redis="embedded")
    result = script.process(sip_text, src="udp:10.0.0.1:5060")
    result.replies, result.requests, result.sent, result.log
    script.pv("$var(x)"); script.redis("srv"); script.mock("ds_select_dst", returns=1)
    kscript.sip.request("INVITE", "sip:bob@example.com", from_="sip:alice@example.com")
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load", "Script", "Result", "sip", "KscriptError", "ConfigError", "NotSupportedError", "__version__"]

from .errors import ConfigError, KscriptError, NotSupportedError


def __getattr__(name):
    # Lazy: `kscript check` must not pay for the runtime's imports.
    if name in ("load", "Script", "Result"):
        from . import script as _script
        return getattr(_script, name)
    if name == "sip":
        import importlib
        return importlib.import_module(".sip", __name__)
    raise AttributeError(name)
