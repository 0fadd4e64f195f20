"""ndb_redis for kscript: Redis commands from kamailio.cfg (``redis_cmd`` & co, ``$redis``).

* :mod:`.params` -- the ``server`` modparam;
* :mod:`.command` -- hiredis-compatible command formatting;
* :mod:`.replies` -- reply objects, the RESP2 reader, ``$redis(...)`` accessors;
* :mod:`.connection` -- transports and servers (reconnect, retry, disabling, cluster, sentinel, TLS);
* :mod:`.embedded` -- the fakeredis-backed embedded mode;
* :mod:`.module` -- :class:`NdbRedisModule`, the cfg functions and PV classes.
"""

from .module import NdbRedisModule

__all__ = ["NdbRedisModule"]
