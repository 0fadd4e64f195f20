"""kscript: run Kamailio 5.6 configurations offline, with Redis built in."""

__version__ = "0.1.0"
