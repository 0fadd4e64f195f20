"""kscript's DB layer: Kamailio's DB API v1 and its backends.

* :mod:`kscript.db.api` -- values, operators, results, the :class:`DbConnection` interface;
* :mod:`kscript.db.url` -- ``db_url`` parsing;
* :mod:`kscript.db.redis` -- db_redis: the API on Redis with Kamailio's exact key layout;
* :mod:`kscript.db.memory` -- an in-memory backend (``memory://``, kscript's own, for tests).

Finding the backend for a URL is :func:`connect`: like Kamailio's ``db_bind_mod``,
scheme ``X`` is served by the loaded module ``db_X`` (a kscript module with a
``db_connect(url)`` method); backends that are not Kamailio modules (``memory``)
are registered with :func:`register_backend`.  A URL whose module is not loaded
is a start-up error, as in Kamailio.
"""

from __future__ import annotations

from typing import Callable

from .api import *  # noqa: F401,F403
from .api import DbConnection, DbError
from .url import DbUrl, UrlError, parse_db_url

__all__ = ["connect", "register_backend", "parse_db_url", "DbUrl", "DbError", "UrlError", "DbConnection",
           "UnavailableDb"]

_BACKENDS: dict[str, Callable] = {}


def register_backend(scheme: str, factory: Callable) -> None:
    """Serve ``scheme://`` URLs with ``factory(script, url: DbUrl) -> DbConnection``."""
    _BACKENDS[scheme.lower()] = factory


class UnavailableDb(DbConnection):
    """Stands for a DB whose backend module the cfg does not load (``mysql://`` without
    ``db_mysql``...).  Kamailio refuses to start; kscript lets such a cfg load -- so
    that tests can mock the functions using the DB -- and fails on the first real use."""

    def __init__(self, url, reason: str, who: str = ""):
        super().__init__(url)
        self.reason = reason
        self.who = who

    def _fail(self, *a, **kw):
        from ..errors import ConfigError
        raise ConfigError(f"{self.who + ': ' if self.who else ''}no database: {self.reason} "
                          f"(Kamailio would refuse to start; mock the functions using it)")

    query = insert = update = delete = table_version = _fail


def connect(script, url: str | DbUrl, *, lazy_missing: bool = False, who: str = "") -> DbConnection:
    """A connection for ``url`` (``db_bind_mod`` + ``init``); raises DbError.

    With ``lazy_missing``, a URL whose backend module is not loaded gives an
    :class:`UnavailableDb` (failing on first use) instead of raising."""
    u = url if isinstance(url, DbUrl) else parse_db_url(url)
    scheme = u.scheme.lower()
    mod = getattr(script, "modules", {}).get(f"db_{scheme}")
    if mod is not None and hasattr(mod, "db_connect"):
        return mod.db_connect(u)
    factory = _BACKENDS.get(scheme)
    if factory is None and scheme == "memory":
        from . import memory  # noqa: F401  (registers itself)
        factory = _BACKENDS.get(scheme)
    if factory is not None:
        return factory(script, u)
    reason = f"module db_{scheme} not found (loadmodule \"db_{scheme}.so\" is needed for db_url {u})"
    if lazy_missing:
        return UnavailableDb(u, reason, who)
    raise DbError(reason)
