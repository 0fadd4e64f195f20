"""corex: core extensions (modules/corex @5.6.3).

* ``append_branch([uri[, q]])`` -- add a branch (:class:`~kscript.sip.output.Branch`) to
  ``ctx.branches``: without a URI the current R-URI (with ``$du``, branch flags and the
  forced socket, which are then reset) is moved into the new branch;
* ``send_udp([dst])`` / ``send_tcp([dst])`` -- send the received message *as received*
  (no lumps) to ``host[:port]`` or to ``$du``/the R-URI;
* ``send_data(uri, data)`` / ``sendx(uri, socket, data)`` -- send raw data;
* ``forward_reply()`` -- stateless forwarding of the received reply;
* ``setxflag``/``resetxflag``/``isxflagset`` (extended flags 0-63),
  ``msg_iflag_set``/``msg_iflag_reset``/``msg_iflag_is_set``, ``is_faked_msg``,
  ``set_send_socket``, ``set_source_address``.
"""

from __future__ import annotations

from ..sip import output
from .base import Module, Param, function

_MAX_BRANCHES = 12


def _q2int(q: str) -> int | None:
    """str2q: "0.5" -> 500, "1" -> 1000; None when invalid."""
    q = q.strip()
    try:
        f = float(q)
    except ValueError:
        return None
    if f < 0 or f > 1:
        return None
    return int(round(f * 1000))


class CorexModule(Module):
    name = "corex"
    params = {
        "alias_subdomains": Param("str", multi=True),
        "dns_cache": Param("str", multi=True),
        "nio_intercept": Param("int", 0),
        "nio_min_msg_len": Param("int", 0),
        "nio_msg_avp": Param("str", ""),
        "evcb_reply_out": Param("str", ""),
    }

    def init(self):
        for value, pos in self.param_values.get("alias_subdomains", []):
            host, _, port = value.partition(":")
            self.script.aliases.append((host.strip().lower(), int(port) if port.isdigit() else None))

    # ---- branches
    @function("append_branch")
    def append_branch0(self, ctx):
        return self._append(ctx, None, None)

    @function("append_branch", "fmt")
    def append_branch1(self, ctx, uri):
        return self._append(ctx, uri, None)

    @function("append_branch", "fmt", "fmt")
    def append_branch2(self, ctx, uri, q):
        return self._append(ctx, uri, q)

    def _append(self, ctx, uri, q):
        qv = -1
        if q:
            qv = _q2int(q)
            if qv is None:
                self.log(ctx, "ERR", "cannot parse the Q parameter")
                return -1
        if len(ctx.branches) >= _MAX_BRANCHES - 1:
            ctx.log("ERR", "max nr of branches exceeded", source="core")
            ctx.data["ser_error"] = -12
            return -1
        use = uri if uri else (ctx.ruri if ctx.msg.is_request else None)
        if not use:
            return -1
        ctx.branches.append(output.Branch(use, dst_uri=ctx.dst_uri or None, path=ctx.data.get("path_vec"),
                                          q=qv, flags=ctx.bflags, socket=ctx.force_socket))
        if not uri:
            ctx.force_socket = None
            ctx.bflags = 0
            ctx.dst_uri = None
            ctx.data.pop("path_vec", None)
        return 1

    # ---- sending
    def _dest(self, ctx, dst: str | None, proto: str):
        if dst:
            host, port = dst, 5060
            if "]" in dst:
                end = dst.index("]")
                if dst[end + 1:end + 2] == ":":
                    host, port = dst[:end + 1], int(dst[end + 2:] or 0)
            elif ":" in dst:
                host, _, p = dst.partition(":")
                port = int(p) if p.isdigit() else 0
            return output.destination_from_args(ctx, host, port, proto)
        uri = ctx.dst_uri or ctx.ruri
        d = output.uri_destination(uri)
        return output.destination_from_args(ctx, d.ip, d.port, proto)

    def _send_raw(self, ctx, dst, text: str) -> int:
        sock = output.send_socket(ctx, dst)
        if sock is None:
            return -1
        kind = "reply" if text.startswith("SIP/2.0 ") else "request"
        sent = ctx.send(kind, dst, text)
        sent.src = sock
        return 1

    @function("send_udp")
    def send_udp0(self, ctx):
        return self._send_msg(ctx, None, "udp")

    @function("send_udp", "fmt")
    def send_udp1(self, ctx, dst):
        return self._send_msg(ctx, dst, "udp")

    @function("send_tcp")
    def send_tcp0(self, ctx):
        return self._send_msg(ctx, None, "tcp")

    @function("send_tcp", "fmt")
    def send_tcp1(self, ctx, dst):
        return self._send_msg(ctx, dst, "tcp")

    def _send_msg(self, ctx, dst, proto):
        try:
            d = self._dest(ctx, dst, proto)
        except output.DestinationError as e:
            self.log(ctx, "ERR", f"failed to resolve [{e}]")
            return -1
        return self._send_raw(ctx, d, ctx.msg.text)

    @function("send_data", "fmt", "fmt")
    def send_data(self, ctx, uri, data):
        return self._send_data(ctx, uri, None, data)

    @function("sendx", "fmt", "fmt", "fmt")
    def sendx(self, ctx, uri, sock, data):
        return self._send_data(ctx, uri, sock, data)

    def _send_data(self, ctx, uri, sock, data):
        try:
            d = output.uri_destination(uri)
        except output.DestinationError:
            self.log(ctx, "ERR", f"bad dst sip uri <{uri}>")
            return -1
        saved = ctx.force_socket
        if sock:
            from ..runtime.context import Socket
            try:
                ctx.force_socket = Socket.parse(sock)
            except ValueError:
                self.log(ctx, "ERR", "invalid socket specification")
                return -1
        try:
            return self._send_raw(ctx, d, data)
        finally:
            ctx.force_socket = saved

    @function("forward_reply")
    def forward_reply(self, ctx):
        if ctx.msg.is_request:
            return 1
        output.forward_reply(ctx)
        return 1

    # ---- extended flags
    def _xflag(self, ctx, flag, op):
        if flag is None or not 0 <= flag <= 63:
            return -1
        x = ctx.data.get("xflags", 0)
        if op == "set":
            ctx.data["xflags"] = x | (1 << flag)
            return 1
        if op == "reset":
            ctx.data["xflags"] = x & ~(1 << flag)
            return 1
        return 1 if x & (1 << flag) else -1

    @function("setxflag", "igp")
    def setxflag(self, ctx, flag):
        return self._xflag(ctx, flag, "set")

    @function("resetxflag", "igp")
    def resetxflag(self, ctx, flag):
        return self._xflag(ctx, flag, "reset")

    @function("isxflagset", "igp")
    def isxflagset(self, ctx, flag):
        return self._xflag(ctx, flag, "is")

    @function("msg_iflag_set", "fmt")
    def msg_iflag_set(self, ctx, name):
        ctx.data.setdefault("iflags", set()).add(name.upper())
        return 1

    @function("msg_iflag_reset", "fmt")
    def msg_iflag_reset(self, ctx, name):
        ctx.data.setdefault("iflags", set()).discard(name.upper())
        return 1

    @function("msg_iflag_is_set", "fmt")
    def msg_iflag_is_set(self, ctx, name):
        return 1 if name.upper() in ctx.data.get("iflags", set()) else -1

    @function("is_faked_msg")
    def is_faked_msg(self, ctx):
        return 1 if ctx.data.get("faked") else -1

    @function("set_send_socket", "fmt")
    def set_send_socket(self, ctx, sock):
        from ..runtime.context import Socket
        if not sock:
            ctx.force_socket = None
            return 1
        try:
            s = Socket.parse(sock)
        except ValueError:
            self.log(ctx, "ERR", f"invalid socket specification [{sock}]")
            return -1
        if not any(x.proto == s.proto and x.ip == s.ip and x.port == s.port for x in ctx.script.listen):
            self.log(ctx, "DBG", f"socket not found [{sock}]")
            return -1
        ctx.force_socket = s
        return 1

    @function("set_source_address", "fmt")
    def set_source_address(self, ctx, addr):
        from ..runtime.context import Socket
        try:
            s = Socket.parse(addr, default_proto=ctx.src.proto)
        except ValueError:
            self.log(ctx, "ERR", "failed to parse source address")
            return -1
        ctx.src = s
        return 1
