"""``db_url`` parsing as srdb1 does it (``parse_db_url``, lib/srdb1/db_id.c@5.6.3).

``scheme://[user[:password]@]host[:port]/database`` -- the ``/database`` part is
required (``redis://127.0.0.1:6379`` is refused: "error while parsing database
URL"), a missing port is 0 (db_redis then fails to connect, as in Kamailio),
``user@domain`` user names work (the *last* ``@`` before the host ends the
credentials), an IPv6 host is written ``[::1]``, and the database name stops
at ``?``.  db_redis uses ``host``, ``port``, ``password`` and ``atoi(database)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .api import DbError

__all__ = ["DbUrl", "parse_db_url", "UrlError"]


class UrlError(DbError):
    """The URL does not parse (Kamailio: "error while parsing database URL")."""


@dataclass(frozen=True)
class DbUrl:
    scheme: str
    username: str | None
    password: str | None
    host: str
    port: int
    database: str
    text: str

    @property
    def db_index(self) -> int:
        """``atoi(database)`` (db_redis's ``SELECT`` index)."""
        s = self.database.lstrip()
        n, sign, i = 0, 1, 0
        if s[:1] in "+-" and s:
            sign = -1 if s[0] == "-" else 1
            i = 1
        while i < len(s) and s[i].isdigit():
            n = n * 10 + ord(s[i]) - 48
            i += 1
        return sign * n

    def __str__(self) -> str:  # never print the password
        cred = ""
        if self.username:
            cred = self.username + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{cred}{host}{port}/{self.database}"


def _str2s(text: str) -> int:
    """``str2s``: unsigned short from decimal digits, 0 on any error."""
    if not text or not text.isdigit() or not text.isascii():
        return 0
    v = int(text)
    return v if v <= 65535 else 0


def _dbname(text: str) -> str:
    q = text.find("?")
    return text if q < 0 else text[:q]


def parse_db_url(url: str) -> DbUrl:
    """Parse a database URL; raises :class:`UrlError` where Kamailio's parser fails."""
    if url is None or len(url) < len("s://a/b"):
        raise UrlError(f"error while parsing database URL: '{url}'")
    s = url
    i = s.find(":")
    if i < 0 or s[i + 1:i + 3] != "//":
        raise UrlError(f"error while parsing database URL: '{url}'")
    scheme = s[:i]
    rest_start = i + 3
    rest = s[rest_start:]
    username = password = None
    # credentials: up to the last '@' before the first '/' that follows it
    slash = rest.find("/")
    at = -1
    if "@" in rest:
        # Kamailio keeps scanning for '@' through the whole remaining URL
        at = rest.rfind("@")
        if slash >= 0 and at > slash:
            # an '@' inside the database part: Kamailio still treats the last '@' as the
            # end of the credentials only when it comes before the host's '/'
            at = rest.rfind("@", 0, slash)
    if at >= 0:
        cred = rest[:at]
        rest = rest[at + 1:]
        if ":" in cred:
            username, password = cred.split(":", 1)
        else:
            username = cred
    # host
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise UrlError(f"error while parsing database URL: '{url}'")
        host = rest[1:end]
        after = rest[end + 1:]
    else:
        j = 0
        while j < len(rest) and rest[j] not in ":/":
            j += 1
        host = rest[:j]
        after = rest[j:]
    port = 0
    if after.startswith(":"):
        k = after.find("/")
        if k < 0:
            raise UrlError(f"error while parsing database URL: '{url}'")
        port = _str2s(after[1:k])
        after = after[k:]
    if not after.startswith("/"):
        raise UrlError(f"error while parsing database URL: '{url}'")
    database = _dbname(after[1:])
    return DbUrl(scheme, username, password, host, port, database, url)
