"""The ``s.*`` transformations of Kamailio 5.6.3 (pv/pv_trans.c@5.6.3:189-1535, ``tr_eval_string``).

Kamailio works on bytes.  kscript strings are Python ``str``; a transformation sees the
UTF-8 encoding of its input (characters that came from undecodable bytes, i.e. lone
surrogates ``\\udc80``-``\\udcff``, stand for those bytes: ``surrogateescape``) and its
string results are decoded back the same way.  So ``$(var(x){s.len})`` of ``"é"`` is 2,
as in Kamailio.

Common rules (checked against the real 5.6.3 binary, see tests/golden/transformations_string.json):

* a null input fails every ``s.*`` transformation;
* an int input is used as its decimal string (Kamailio's int values always carry it);
* results are string-typed except ``s.len``, ``s.int`` and ``s.count`` (int-typed), and
  ``s.unquote`` / ``s.unbracket`` of a value shorter than 2 bytes, which is returned as it
  came (an int stays an int);
* values longer than Kamailio's 64 KiB transformation buffer make most of them fail.

Kamailio bugs reproduced on purpose (they are what a 5.6 config gets): ``s.fmtlines`` /
``s.fmtlinet`` only break the line before each of the first ``n-1`` characters;
``s.rafter`` always returns ``""``; ``s.rbefore`` only works when the value ends with the
character (otherwise Kamailio reads past the value: :class:`NotSupportedError`);
``s.decode.base58`` returns one byte too many and puts the zero bytes of leading ``1``
digits *after* the number (``"2"`` → ``"\\x01\\x00"``); ``s.decode.base64`` does not detect
invalid characters (they decode as the value 0xff: garbage bytes), only a bad length or
padding; ``s.int`` of ``"+7"`` / ``"007"`` is the int 7 printed as it came (:class:`IntText`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import time

from kscript.errors import NotSupportedError

from . import TransformFailed, Value, transformation
from .spec import StrParam

TR_BUFFER_SIZE = 65536
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
UINT_MAX = (1 << 32) - 1


# --------------------------------------------------------------------------- value helpers
def to_bytes(value: str | int) -> bytes:
    """The bytes Kamailio would see for a kscript value (int → decimal string)."""
    if isinstance(value, int):
        return str(value).encode("ascii")
    return value.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def fail(reason: str = "") -> TransformFailed:
    return TransformFailed(reason)


def s_input(value: Value) -> bytes:
    """Input of an ``s.*`` transformation: null fails, int → decimal string."""
    if value is None:
        raise fail("null input")
    return to_bytes(value)


def param_byte(p: str) -> int:
    """First byte of a string parameter (Kamailio reads ``param.s[0]`` even when empty)."""
    if p:
        return to_bytes(p)[0]
    nxt = getattr(p, "next_char", "")
    return to_bytes(nxt)[0] if nxt else 0


def to_int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def signed_byte(b: int) -> int:
    return b - 256 if b >= 128 else b


def _at(data: bytes, i: int) -> int:
    """``s[i]`` of a NUL-terminated C string (0 past the end)."""
    return data[i] if 0 <= i < len(data) else 0


def str2sint(data: bytes) -> int:
    """Kamailio's ``str2sint``: optional sign then only digits; "" / "+" / "-" give 0."""
    i, neg = 0, False
    if data[:1] == b"+":
        i = 1
    elif data[:1] == b"-":
        i, neg = 1, True
    r = 0
    for c in data[i:]:
        if not 48 <= c <= 57:
            raise fail("not a number")
        r = r * 10 + (c - 48)
        if (neg and -r < INT_MIN) or (not neg and r > INT_MAX):
            raise fail("number out of range")
    return -r if neg else r


def str2int(data: bytes) -> int:
    """Kamailio's ``str2int`` (unsigned int): optional '+', digits only, "" gives 0."""
    i = 1 if data[:1] == b"+" else 0
    r = 0
    for c in data[i:]:
        if not 48 <= c <= 57:
            raise fail("not a number")
        r = r * 10 + (c - 48)
        if r > UINT_MAX:
            raise fail("number out of range")
    return r


def _s(name: str, *params: str, min_params: int | None = None):
    return transformation(f"s.{name}", *params, min_params=min_params)


# --------------------------------------------------------------------------- length / numbers
@_s("len")
def s_len(value: Value) -> Value:
    return len(s_input(value))


class IntText(int):
    """An int-typed value whose printed text is not its decimal form.

    ``$(var(x){s.int})`` with x = ``"+7"`` is the int 7 but prints ``+7`` (Kamailio keeps
    the string part of the value: ``"007"``, ``"+7"``, ``"-"`` and ``""`` print as they
    came).  Arithmetic gives plain ints; a container that stores the value (``$var``
    assignment keeps only the number in Kamailio) should store ``int(value)``.
    """

    text: str

    def __new__(cls, number: int, text: str):
        obj = super().__new__(cls, number)
        obj.text = text
        return obj

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        return self.text if not spec else super().__format__(spec)

    def __repr__(self) -> str:
        return f"IntText({int(self)}, {self.text!r})"


@_s("int")
def s_int(value: Value) -> Value:
    if value is None:
        raise fail("null input")
    if isinstance(value, int):
        return value
    n = str2sint(to_bytes(value))
    return n if str(n) == value else IntText(n, value)


@_s("numeric")
def s_numeric(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE:
        raise fail("too long")
    return from_bytes(bytes(c for c in data if 48 <= c <= 57))


# --------------------------------------------------------------------------- digests
def _digest(algo: str):
    def fn(value: Value) -> Value:
        return hashlib.new(algo, s_input(value)).hexdigest()

    return fn


for _algo in ("md5", "sha256", "sha384", "sha512"):
    transformation(f"s.{_algo}")(_digest(_algo))


# --------------------------------------------------------------------------- hexa / 7bit
_HEX = b"0123456789abcdef"


@_s("encode.hexa")
def s_encode_hexa(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE // 2 - 1:
        raise fail("too long")
    return data.hex()


def _hexval(c: int) -> int | None:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return None


@_s("decode.hexa")
def s_decode_hexa(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE * 2 - 1:
        raise fail("too long")
    out = bytearray()
    for i in range(len(data) // 2):  # an odd last digit is ignored
        hi, lo = _hexval(data[2 * i]), _hexval(data[2 * i + 1])
        if hi is None or lo is None:
            raise fail("not a hex digit")
        out.append((hi << 4) | lo)
    return from_bytes(bytes(out))


def _hex_to_char(c: int) -> int:
    """core/strutils.c ``hex_to_char`` (no validation; result as a signed C int)."""
    if 48 <= c <= 57:
        return c - 48
    sc = signed_byte(c)
    low = sc + 32 if 65 <= c <= 90 else sc  # tolower() in the C locale
    return low - 97 + 10


@_s("encode.7bit")
def s_encode_7bit(value: Value) -> Value:
    data = s_input(value)
    if len(data) > (TR_BUFFER_SIZE * 7 // 8) - 1:
        raise fail("too long")
    out = bytearray()
    nleft = 1
    pos = 0  # sin.s
    i = 0
    n = len(data)
    while i < n:
        hexv = _at(data, pos) >> (nleft - 1)
        fill = (signed_byte(_at(data, pos + 1)) << (8 - nleft)) & 0xFF
        hexv = (hexv | fill) & 0xFF
        out += b"0123456789ABCDEF"[hexv >> 4 : (hexv >> 4) + 1]
        out += b"0123456789ABCDEF"[hexv & 0x0F : (hexv & 0x0F) + 1]
        nleft += 1
        if nleft == 8:
            pos += 1
            i += 1
            nleft = 1
        pos += 1
        i += 1
    return from_bytes(bytes(out))


@_s("decode.7bit")
def s_decode_7bit(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE // 2 - 1:
        raise fail("too long")
    out = bytearray()
    nleft = 1
    oldfill = 0
    for i in range(0, len(data), 2):
        b = ((_hex_to_char(_at(data, i)) & 0xFF) << 4) & 0xFF
        b = (b | (_hex_to_char(_at(data, i + 1)) & 0xFF)) & 0xFF
        fill = b >> (8 - nleft)
        b = (b << (nleft - 1)) & 0xFF
        b &= 0x7F
        b |= oldfill
        oldfill = fill
        out.append(b)
        nleft += 1
        if nleft == 8:
            out.append(oldfill)
            nleft = 1
            oldfill = 0
    return from_bytes(bytes(out))


# --------------------------------------------------------------------------- base58
_B58_DIGITS = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_MAP = {c: i for i, c in enumerate(_B58_DIGITS)}


@_s("encode.base58")
def s_encode_base58(value: Value) -> Value:
    data = s_input(value)
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data[zeros:], "big") if len(data) > zeros else 0
    digits = bytearray()
    while num:
        num, r = divmod(num, 58)
        digits.append(_B58_DIGITS[r])
    out = b"1" * zeros + bytes(reversed(digits))
    if len(out) >= TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(out)


@_s("decode.base58")
def s_decode_base58(value: Value) -> Value:
    data = s_input(value)
    zeros = 0
    while zeros < len(data) and data[zeros] == 0x31:  # '1'
        zeros += 1
    num = 0
    for c in data[zeros:]:
        if c & 0x80 or c not in _B58_MAP:
            raise fail("invalid base58 digit")
        num = num * 58 + _B58_MAP[c]
    nbytes = (num.bit_length() + 7) // 8
    if nbytes > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    # Kamailio 5.6.3 decodes into a 65534-byte big-endian number, then returns its
    # significant bytes plus 1 + (number of leading '1' digits) more bytes: the length is
    # off by one and the zero bytes meant to be prepended are read from *after* the number
    # (memory that holds zeros in practice).
    return from_bytes(num.to_bytes(nbytes, "big") + b"\0" * (1 + zeros))


# --------------------------------------------------------------------------- base64
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNB64 = [0xFF] * 256
for _i, _c in enumerate(_B64):
    _UNB64[_c] = _i
_UNB64URL = [-1] * 256
for _i, _c in enumerate(_B64URL):
    _UNB64URL[_c] = _i


def _b64_encode(data: bytes, alphabet: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 3):
        chunk = data[i : i + 3]
        block = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        quad = [alphabet[(block >> s) & 0x3F] for s in (18, 12, 6, 0)]
        if len(chunk) < 3:
            quad[3] = 0x3D
        if len(chunk) < 2:
            quad[2] = 0x3D
        out += bytes(quad)
    return bytes(out)


def _b64_decode(src: bytes) -> bytes | None:
    """core/basex.h ``base64_dec``: None when it returns 0 (bad length/padding).

    Invalid characters are not detected: they decode as 0xff (garbage bytes).
    """
    slen = len(src)
    if slen < 4 or slen % 4 or (src[-2] == 0x3D and src[-1] != 0x3D):
        return None
    osize = slen // 4 * 3 - (src[-2] == 0x3D) - (src[-1] == 0x3D)
    out = bytearray()
    for i in range(0, slen - 4, 4):
        a, b, c, d = (_UNB64[x] for x in src[i : i + 4])
        out += bytes((((a << 2) | (b >> 4)) & 0xFF, ((b << 4) | (c >> 2)) & 0xFF, ((c << 6) | d) & 0xFF))
    a, b, c, d = (_UNB64[x] for x in src[slen - 4 :])
    tail = (((a << 2) | (b >> 4)) & 0xFF, ((b << 4) | (c >> 2)) & 0xFF, ((c << 6) | d) & 0xFF)
    out += bytes(tail[: {0: 3, 2: 2, 1: 1}[osize % 3]])
    return bytes(out)


def _b64url_decode(src: bytes) -> bytes | None:
    """core/basex.c ``base64url_dec``: None on error (also for "")."""
    ilen = len(src)
    n = 0
    i = ilen - 1
    while i >= 0 and src[i] == 0x3D:
        n += 1
        i -= 1
    olen = ((ilen * 6) >> 3) - n
    if olen <= 0 or olen >= TR_BUFFER_SIZE - 1:
        return None
    out = bytearray(olen)
    end = ilen - n
    i = idx = 0
    while i < end:
        block = 0
        j = 0
        while j < 4 and i < end:
            c = _UNB64URL[src[i]]
            i += 1
            if c < 0:
                return None
            block += c << (18 - 6 * j)
            j += 1
        shift = 16
        for k in range(3):
            if idx + k >= olen:
                break
            out[idx + k] = (block >> shift) & 0xFF
            shift -= 8
        idx += 3
    return bytes(out)


def _strip_pad(enc: bytes) -> bytes:
    i = len(enc)
    if i > 1 and enc[i - 1] == 0x3D:
        i -= 1
        if i > 1 and enc[i - 1] == 0x3D:
            i -= 1
    return enc[:i]


def _pad(data: bytes) -> bytes:
    if len(data) % 4:
        if len(data) + 4 >= TR_BUFFER_SIZE - 1:
            raise fail("too long")
        return data + b"=" * (4 - len(data) % 4)
    return data


def _check_enc(data: bytes) -> None:
    if (len(data) + 2) // 3 * 4 > TR_BUFFER_SIZE - 1:
        raise fail("too long")


@_s("encode.base64")
def s_encode_base64(value: Value) -> Value:
    data = s_input(value)
    _check_enc(data)
    return from_bytes(_b64_encode(data, _B64))


@_s("encode.base64t")
def s_encode_base64t(value: Value) -> Value:
    data = s_input(value)
    _check_enc(data)
    return from_bytes(_strip_pad(_b64_encode(data, _B64)))


@_s("encode.base64url")
def s_encode_base64url(value: Value) -> Value:
    data = s_input(value)
    if (len(data) + 2) // 3 * 4 >= TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(_b64_encode(data, _B64URL))


@_s("encode.base64urlt")
def s_encode_base64urlt(value: Value) -> Value:
    data = s_input(value)
    if (len(data) + 2) // 3 * 4 >= TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(_strip_pad(_b64_encode(data, _B64URL)))


def _dec_result(out: bytes | None, inlen: int) -> Value:
    if out is None:
        if inlen > 0:
            raise fail("invalid base64")
        return ""
    if len(out) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    if not out and inlen > 0:
        raise fail("invalid base64")
    return from_bytes(out)


@_s("decode.base64")
def s_decode_base64(value: Value) -> Value:
    data = s_input(value)
    return _dec_result(_b64_decode(data), len(data))


@_s("decode.base64t")
def s_decode_base64t(value: Value) -> Value:
    data = s_input(value)
    return _dec_result(_b64_decode(_pad(data)), len(data))


def _dec_url(out: bytes | None, inlen: int) -> Value:
    if out is None or (not out and inlen > 0):
        raise fail("invalid base64url")
    return from_bytes(out)


@_s("decode.base64url")
def s_decode_base64url(value: Value) -> Value:
    data = s_input(value)
    return _dec_url(_b64url_decode(data), len(data))


@_s("decode.base64urlt")
def s_decode_base64urlt(value: Value) -> Value:
    data = s_input(value)
    return _dec_url(_b64url_decode(_pad(data)), len(data))


# --------------------------------------------------------------------------- escaping
@_s("escape.common")
def s_escape_common(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE // 2 - 1:
        raise fail("too long")
    out = bytearray()
    for c in data:
        if c in (0x27, 0x22, 0x5C):
            out += bytes((0x5C, c))
        elif c == 0:
            out += b"\\0"
        else:
            out.append(c)
    return from_bytes(bytes(out))


@_s("unescape.common")
def s_unescape_common(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == 0x5C and i + 1 < n:
            nx = data[i + 1]
            if nx in (0x27, 0x22, 0x5C):
                out.append(nx)
                i += 1
            elif nx == 0x30:  # '0'
                out.append(0)
                i += 1
            else:
                out.append(c)
        else:
            out.append(c)
        i += 1
    return from_bytes(bytes(out))


_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_USER_KEEP = _ALNUM | frozenset(b"-_.!~*'()&=+$,;?")
_PARAM_KEEP = _ALNUM | frozenset(b"-_.!~*'()[]/:&+$")


def _pct_escape(data: bytes, keep: frozenset) -> bytes:
    out = bytearray()
    for c in data:
        if c < 32 or c > 126:  # (signed char in C: bytes >= 0x80 are < 32 too)
            raise fail("invalid character")
        if c in keep:
            out.append(c)
        else:
            out += b"%" + _HEX[c >> 4 : (c >> 4) + 1] + _HEX[c & 15 : (c & 15) + 1]
    return bytes(out)


@_s("escape.user")
def s_escape_user(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE // 2 - 1:
        raise fail("too long")
    return from_bytes(_pct_escape(data, _USER_KEEP))


@_s("escape.param")
def s_escape_param(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE // 2 - 1:
        raise fail("too long")
    return from_bytes(_pct_escape(data, _PARAM_KEEP))


def _unescape_user(data: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        if data[i] == 0x25:  # '%'
            hi = _hexval(_at(data, i + 1))
            if hi is None:
                raise fail("invalid hex digit")
            lo = _hexval(_at(data, i + 2))
            if lo is None:
                raise fail("invalid hex digit")
            c = (hi << 4) + lo
            if c < 32 or c > 126:
                raise fail("invalid escaped character")
            out.append(c)
            i += 3
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


@_s("unescape.user")
def s_unescape_user(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(_unescape_user(data))


@_s("unescape.param")
def s_unescape_param(value: Value) -> Value:
    return s_unescape_user(value)


@_s("escape.csv")
def s_escape_csv(value: Value) -> Value:
    data = s_input(value)
    if TR_BUFFER_SIZE < 2 * len(data) + 3:
        raise fail("too long")
    return from_bytes(b'"' + data.replace(b'"', b'""') + b'"')


@_s("urlencode.param")
def s_urlencode_param(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1 or TR_BUFFER_SIZE < 3 * len(data) + 1:
        raise fail("too long")
    out = bytearray()
    for c in data:
        if c in _ALNUM or c in b"-_.~":
            out.append(c)
        else:
            out += b"%" + _HEX[c >> 4 : (c >> 4) + 1] + _HEX[c & 15 : (c & 15) + 1]
    return from_bytes(bytes(out))


@_s("urldecode.param")
def s_urldecode_param(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c == 0x25:
            if _at(data, i + 1) and _at(data, i + 2):
                out.append(((_hex_to_char(data[i + 1]) << 4) | _hex_to_char(data[i + 2])) & 0xFF)
                i += 2
            # else: a '%' too close to the end is dropped
        elif c == 0x2B:
            out.append(0x20)
        else:
            out.append(c)
        i += 1
    return from_bytes(bytes(out))


# --------------------------------------------------------------------------- substrings
@_s("substr", "int", "int")
def s_substr(value: Value, offset: int, length: int) -> Value:
    data = s_input(value)
    i, j = offset, length
    if j < 0:
        raise fail("negative length")
    n = len(data)
    if i >= 0:
        if i >= n:
            raise fail("offset out of range")
        if i + j >= n:
            j = 0
        out = data[i:] if j == 0 else data[i : i + j]
    else:
        i = -i
        if i > n:
            raise fail("offset out of range")
        if i < j:
            j = 0
        out = data[n - i :] if j == 0 else data[n - i : n - i + j]
    return from_bytes(out)


@_s("select", "int", "char")
def s_select(value: Value, index: int, sep: str) -> Value:
    data = s_input(value)
    c = to_bytes(sep)[0]
    n = len(data)
    i = index
    if i < 0:
        s = n - 1
        p = s
        i = -i - 1
        while p >= 0:
            if data[p] == c:
                if i == 0:
                    break
                s = p - 1
                i -= 1
            p -= 1
        return from_bytes(data[p + 1 : s + 1]) if i == 0 else ""
    s = p = 0
    while p < n:
        if data[p] == c:
            if i == 0:
                break
            s = p + 1
            i -= 1
        p += 1
    return from_bytes(data[s:p]) if i == 0 else ""


@_s("tolower")
def s_tolower(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(bytes(c + 32 if 65 <= c <= 90 else c for c in data))


@_s("toupper")
def s_toupper(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(bytes(c - 32 if 97 <= c <= 122 else c for c in data))


@_s("strip", "int")
def s_strip(value: Value, n: int) -> Value:
    data = s_input(value)
    if n <= 0:
        return from_bytes(data)
    return from_bytes(data[n:]) if n < len(data) else ""


@_s("striptail", "int")
def s_striptail(value: Value, n: int) -> Value:
    data = s_input(value)
    if n <= 0:
        return from_bytes(data)
    return from_bytes(data[: len(data) - n]) if n < len(data) else ""


@_s("stripto", "str")
def s_stripto(value: Value, chars: str) -> Value:
    data = s_input(value)
    i = data.find(bytes((param_byte(chars),)))
    return "" if i < 0 else from_bytes(data[i:])


def _prefixes(value: Value, maxlen, quoted: bool) -> Value:
    data = s_input(value)
    m = len(data)
    if maxlen is not None and 0 < maxlen < m:
        m = maxlen
    if m * (m // 2 + (1 if quoted else 3)) > TR_BUFFER_SIZE - 1:
        raise fail("prefixes buffer too short")
    q = b"'" if quoted else b""
    return from_bytes(b",".join(q + data[:k] + q for k in range(1, m + 1)))


@_s("prefixes", "int", min_params=0)
def s_prefixes(value: Value, maxlen: int | None = None) -> Value:
    return _prefixes(value, maxlen, False)


@_s("prefixes.quoted", "int", min_params=0)
def s_prefixes_quoted(value: Value, maxlen: int | None = None) -> Value:
    return _prefixes(value, maxlen, True)


def _cmp_at(data: bytes, i: int, pat: bytes) -> bool:
    """``strncmp(data+i, pat, len(pat)) == 0`` (comparison stops at a common NUL)."""
    if 0 not in pat:
        return data[i : i + len(pat)] == pat
    for k, pc in enumerate(pat):
        dc = _at(data, i + k)
        if dc != pc:
            return False
        if dc == 0:
            return True
    return True


def _replace_all(data: bytes, match: bytes, first: int, repl: bytes) -> bytes:
    """The replace/rm loop of tr_eval_string (output capped like Kamailio's buffer)."""
    n = len(data)
    mx = n - len(match)
    out = bytearray()
    i = 0
    if not match:
        # Kamailio compares with the byte that follows the empty literal in the config and
        # never advances on a match: it loops until the buffer is full (or forever).
        k = data.find(bytes((first,)))
        if k < 0:
            return data
        if not repl:
            raise fail("Kamailio 5.6.3 loops forever here (empty match string)")
        out = bytearray(data[:k])
        while len(out) < TR_BUFFER_SIZE:
            out += repl
        return bytes(out)
    while i < n and len(out) < TR_BUFFER_SIZE:
        if i <= mx and data[i] == first and _cmp_at(data, i, match):
            out += repl
            i += len(match)
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


@_s("replace", "str", "str")
def s_replace(value: Value, match: str, repl: str) -> Value:
    data = s_input(value)
    return from_bytes(_replace_all(data, to_bytes(match), param_byte(match), to_bytes(repl)))


def _unescape_rm(lit: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(lit)
    while i < n - 1:
        if lit[i] == 0x5C:
            out.append({0x6E: 10, 0x72: 13, 0x74: 9, 0x5C: 0x5C}.get(lit[i + 1], lit[i + 1]))
            i += 2
        else:
            out.append(lit[i])
            i += 1
    if i == n - 1:
        out.append(lit[i])
    return bytes(out)


@_s("rm", "str")
def s_rm(value: Value, match: str) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    m = to_bytes(match)
    if isinstance(match, StrParam) and b"\\" in m:  # escapes only in a literal
        m = _unescape_rm(m)
    return from_bytes(_replace_all(data, m, m[0] if m else param_byte(match), b""))


@_s("count", "char")
def s_count(value: Value, char: str) -> Value:
    data = s_input(value)
    return data.count(bytes((param_byte(char),)))


@_s("before", "char")
def s_before(value: Value, char: str) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    i = data.find(bytes((param_byte(char),)))
    if i < 0:
        i = len(data)
    return from_bytes(data[:i])


@_s("after", "char")
def s_after(value: Value, char: str) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    i = data.find(bytes((param_byte(char),)))
    if i < 0 or i >= len(data) - 1:
        return ""
    return from_bytes(data[i + 1 :])


@_s("rbefore", "char")
def s_rbefore(value: Value, char: str) -> Value:
    # 5.6.3 scans *forwards* from the last byte (i++ instead of i--): only a value ending
    # with the character gives a defined result (everything but that last byte).
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    if data and data[-1] == param_byte(char):
        return from_bytes(data[:-1])
    raise NotSupportedError(
        "s.rbefore: Kamailio 5.6.3 reads past the end of the value (or crashes on an empty one) "
        "unless the value ends with the character; the result is undefined"
    )


@_s("rafter", "char")
def s_rafter(value: Value, char: str) -> Value:
    # 5.6.3 scans forwards from the last byte, so the position found is never before the
    # last byte: the result is always "" (unless the search runs off mapped memory).
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    return ""


# --------------------------------------------------------------------------- trimming
_WS = b" \t\r\n"


@_s("trim")
def s_trim(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    return from_bytes(data.strip(_WS))


@_s("rtrim")
def s_rtrim(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    return from_bytes(data.rstrip(_WS))


@_s("ltrim")
def s_ltrim(value: Value) -> Value:
    data = s_input(value)
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    return from_bytes(data.lstrip(_WS))


@_s("rmws")
def s_rmws(value: Value) -> Value:
    data = s_input(value)
    if len(data) >= TR_BUFFER_SIZE - 1:
        raise fail("too long")
    return from_bytes(bytes(c for c in data if c not in _WS))


@_s("unquote")
def s_unquote(value: Value) -> Value:
    data = s_input(value)
    if len(data) < 2:
        return value  # unchanged, type included
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    if data[0] == data[-1] and data[0] in b"\"'":
        data = data[1:-1]
    return from_bytes(data)


@_s("unbracket")
def s_unbracket(value: Value) -> Value:
    data = s_input(value)
    if len(data) < 2:
        return value
    if len(data) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    if bytes((data[0], data[-1])) in (b"()", b"[]", b"{}", b"<>"):
        data = data[1:-1]
    return from_bytes(data)


# --------------------------------------------------------------------------- time
class _Tm(ctypes.Structure):
    _fields_ = [
        ("tm_sec", ctypes.c_int),
        ("tm_min", ctypes.c_int),
        ("tm_hour", ctypes.c_int),
        ("tm_mday", ctypes.c_int),
        ("tm_mon", ctypes.c_int),
        ("tm_year", ctypes.c_int),
        ("tm_wday", ctypes.c_int),
        ("tm_yday", ctypes.c_int),
        ("tm_isdst", ctypes.c_int),
        ("tm_gmtoff", ctypes.c_long),
        ("tm_zone", ctypes.c_char_p),
        ("_pad", ctypes.c_char * 64),
    ]


_libc = None
_tz_seen: object = object()


def _c_strftime(fmt: bytes, t: int) -> bytes | None:
    """``strftime(localtime_r(t))`` through the C library (None when unavailable)."""
    global _libc, _tz_seen
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
            _libc.localtime_r.argtypes = [ctypes.POINTER(ctypes.c_long), ctypes.POINTER(_Tm)]
            _libc.localtime_r.restype = ctypes.c_void_p
            _libc.strftime.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(_Tm)]
            _libc.strftime.restype = ctypes.c_size_t
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return None
    tz = os.environ.get("TZ")
    if tz != _tz_seen:
        _tz_seen = tz
        _libc.tzset()
    tm = _Tm()
    if not _libc.localtime_r(ctypes.byref(ctypes.c_long(t)), ctypes.byref(tm)):
        return b""
    buf = ctypes.create_string_buffer(TR_BUFFER_SIZE)
    n = _libc.strftime(buf, TR_BUFFER_SIZE - 1, fmt.split(b"\0", 1)[0], ctypes.byref(tm))
    return buf.raw[:n]


@_s("ftime", "str")
def s_ftime(value: Value, fmt: str) -> Value:
    if value is None:
        raise fail("null input")
    if isinstance(value, int):
        t = value
    else:
        t = to_int32(str2int(to_bytes(value)))  # str2int into an int field
    f = to_bytes(fmt)
    out = _c_strftime(f, t)
    if out is None:  # no C library: Python's strftime (same results for common formats)
        time.tzset()
        try:
            out = time.strftime(f.decode("utf-8", "surrogateescape"), time.localtime(t)).encode(
                "utf-8", "surrogateescape"
            )
        except (ValueError, OverflowError):
            out = b""
    return from_bytes(out)


# --------------------------------------------------------------------------- hashing
def core_hash(data: bytes, size: int = 0) -> int:
    """core/hashes.h ``core_hash(s1, NULL, size)`` (bytes are signed ``char`` there)."""
    m = 0xFFFFFFFF
    h = 0
    n = len(data)
    sb = [signed_byte(c) for c in data]
    p = 0
    while p <= n - 4:
        v = ((sb[p] << 24) + (sb[p + 1] << 16) + (sb[p + 2] << 8) + sb[p + 3]) & m
        h = (h + (v ^ (v >> 3))) & m
        p += 4
    v = 0
    while p < n:
        v = ((v << 8) + sb[p]) & m
        p += 1
    h = (h + (v ^ (v >> 3))) & m
    h = ((h + (h >> 11)) + ((h >> 13) + (h >> 23))) & m
    return (h & ((size - 1) & m)) if size else h


@_s("corehash", "int", min_params=0)
def s_corehash(value: Value, size: int | None = None) -> Value:
    data = s_input(value)
    return str(core_hash(data, (size or 0) & 0xFFFFFFFF))


# --------------------------------------------------------------------------- line formatting
def _fmtline(value: Value, n: int, m: int, pad: int) -> Value:
    data = s_input(value)
    if n <= 0 or m < 0:
        raise fail("invalid parameters")
    length = len(data)
    aliased = False
    if m >= length:
        if length > TR_BUFFER_SIZE - 2:
            raise fail("too long")
        aliased = True  # Kamailio copies the value into the output buffer first
    if length + (length // n) * (2 + m) > TR_BUFFER_SIZE - 2:
        raise fail("too long")
    buf = bytearray(data) if aliased else bytearray()
    src = buf if aliased else data
    p = 0

    def put(b: int) -> None:
        nonlocal p
        if p < len(buf):
            buf[p] = b
        else:
            buf.append(b)
        p += 1

    for i in range(length):
        if i != 0 and i // n == 0:  # sic: '/' where '%' was meant
            put(13)
            put(10)
            for _ in range(m):
                put(pad)
        put(src[i])
    return from_bytes(bytes(buf[:p]))


@_s("fmtlines", "int", "int")
def s_fmtlines(value: Value, n: int, m: int) -> Value:
    return _fmtline(value, n, m, 0x20)


@_s("fmtlinet", "int", "int")
def s_fmtlinet(value: Value, n: int, m: int) -> Value:
    return _fmtline(value, n, m, 0x09)
