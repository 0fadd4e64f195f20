"""``{nameaddr.*}`` and ``{tobody.*}`` transformations (pv/pv_trans.c@5.6.3:2094-2265).

* ``nameaddr.name`` -- everything before the first ``<`` outside quotes, as written
  (``"Bob" `` keeps the quotes and the blank); ``nameaddr.uri`` -- the text inside ``<>``;
  ``nameaddr.len`` (int) -- length up to and including ``>``.  Without ``<`` the whole
  input is the URI (name ``""``, len = input length).  A ``<`` without closing ``>``
  fails -- but, as in Kamailio 5.6.3, the partially parsed result stays cached, so
  evaluating the *same* input again succeeds (name = text before ``<``, uri = the rest,
  len 0).  kscript reproduces that (per process, like Kamailio's static cache).
* ``tobody.uri``, ``tobody.display`` (quotes kept), ``tobody.tag``, ``tobody.user``,
  ``tobody.host``, ``tobody.params`` (from the first parameter name to the end): the
  input is parsed as a To header body, then its URI; either failing fails.

Null, empty input fail; an int input is used as its decimal string.
"""

from __future__ import annotations

from ...errors import SipParseError
from ...sip.nameaddr import ToBody, find_not_quoted, parse_to_body
from ...sip.uri import SipUri, parse_uri
from . import TransformFailed, Value, transformation

_na_key: str | None = None
_na_val: tuple[str, str, int] | None = None   # (name, uri, len)
_tb_key: str | None = None
_tb_val: tuple[ToBody, SipUri] | None = None


def _input(value: Value) -> str:
    if value is None:
        raise TransformFailed("null input")
    if isinstance(value, int):
        value = str(value)
    if not value:
        raise TransformFailed("empty input")
    return value


def reset_caches() -> None:
    """Forget the per-process parse caches (a new Kamailio worker)."""
    global _na_key, _na_val, _tb_key, _tb_val
    _na_key = _na_val = _tb_key = _tb_val = None


def _nameaddr(value: Value) -> tuple[str, str, int]:
    global _na_key, _na_val
    text = _input(value)
    if text == _na_key:
        return _na_val
    _na_key = text
    lt = find_not_quoted(text, "<")
    if lt < 0:
        _na_val = ("", text, len(text))
        return _na_val
    gt = find_not_quoted(text, ">", lt + 1)
    if gt < 0:
        # Kamailio keeps the half-filled structure in its cache (see module docstring)
        _na_val = (text[:lt], text[lt + 1:], 0)
        raise TransformFailed("name-addr without closing '>'")
    _na_val = (text[:lt], text[lt + 1:gt], gt + 1)
    return _na_val


@transformation("nameaddr.name")
def tr_nameaddr_name(value: Value) -> Value:
    return _nameaddr(value)[0]


@transformation("nameaddr.uri")
def tr_nameaddr_uri(value: Value) -> Value:
    return _nameaddr(value)[1]


@transformation("nameaddr.len")
def tr_nameaddr_len(value: Value) -> Value:
    return _nameaddr(value)[2]


def _tobody(value: Value) -> tuple[ToBody, SipUri]:
    global _tb_key, _tb_val
    text = _input(value)
    if text == _tb_key:
        return _tb_val
    try:
        body = parse_to_body(text)
        uri = parse_uri(body.uri)
    except SipParseError:
        _tb_key = _tb_val = None
        raise TransformFailed("invalid to body") from None
    _tb_key, _tb_val = text, (body, uri)
    return _tb_val


@transformation("tobody.uri")
def tr_tobody_uri(value: Value) -> Value:
    return _tobody(value)[0].uri


@transformation("tobody.display")
def tr_tobody_display(value: Value) -> Value:
    return _tobody(value)[0].display or ""


@transformation("tobody.tag")
def tr_tobody_tag(value: Value) -> Value:
    return _tobody(value)[0].tag or ""


@transformation("tobody.user")
def tr_tobody_user(value: Value) -> Value:
    return _tobody(value)[1].user or ""


@transformation("tobody.host")
def tr_tobody_host(value: Value) -> Value:
    return _tobody(value)[1].host or ""


@transformation("tobody.params")
def tr_tobody_params(value: Value) -> Value:
    return _tobody(value)[0].params_text or ""
