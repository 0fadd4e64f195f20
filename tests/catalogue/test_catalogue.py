"""The Kamailio 5.6 catalogue against facts recorded from the real binary.

``kscript/catalogue/kamailio-5.6.json`` is generated from Kamailio 5.6.3's
source by ``tools/gen_catalogue.py``; ``tests/golden/catalogue_probe.json``
holds the verdicts of Debian's kamailio 5.6.3 (``kamailio -c`` on generated
configs) recorded by ``tools/probe_catalogue.py``.  Nothing here runs
kamailio.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kscript.catalogue import Catalogue, load

ROOT = Path(__file__).resolve().parents[2]
CAT_PATH = ROOT / "kscript" / "catalogue" / "kamailio-5.6.json"
GOLDEN_PATH = ROOT / "tests" / "golden" / "catalogue_probe.json"

ROUTE_KINDS = ["request", "failure", "core_reply", "tm_reply", "branch", "onsend", "event"]

# Modules in the 5.6.3 source tree that Debian 12 does not ship (extra
# dependencies or not packaged); they stay in the catalogue.
SOURCE_ONLY = {
    "app_java", "app_mono", "app_python", "db_cassandra", "db_oracle", "dlgs", "dnssec",
    "erlang", "http_async_client", "jwt", "kafka", "misctest", "ndb_cassandra", "nsq", "osp",
    "posops", "print", "print_lib", "rtp_media_server", "ruxc", "siprepo", "stirshaken",
    "sworker", "tlsa",
}
# Shipped, but has no module_exports (a helper library loaded by secsipid).
NO_EXPORTS = {"secsipid_proc"}


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(CAT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load()


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))


def _probed(golden):
    return {m: r for m, r in golden["modules"].items() if r.get("load") == "ok"}


def _catalogue_arities(entries, max_arity):
    out = set()
    for e in entries:
        n = e["nparams"]
        if n == "var":
            out |= set(range(max_arity + 1))
        elif 0 <= n <= max_arity:
            out.add(n)
    return out


# ---------------------------------------------------------------- structure
def test_version_and_shape(raw):
    assert raw["version"] == "5.6.3"
    assert set(raw) >= {"version", "modules", "core", "transformations"}
    assert set(raw["core"]) >= {"pvs", "params", "functions"}
    for name, mod in raw["modules"].items():
        assert set(mod) >= {"exports_name", "functions", "params", "pvs"}, name
        for fname, entries in mod["functions"].items():
            for e in entries:
                assert e["nparams"] == "var" or isinstance(e["nparams"], int)
                assert set(e) >= {"nparams", "fixup", "free_fixup", "flags", "route_mask"}
        for pname, p in mod["params"].items():
            assert p["type"] in ("int", "str", "string"), (name, pname)
            assert isinstance(p["func"], bool)


def test_file_is_canonical_json(raw):
    """Sorted keys, as the generator writes it (deterministic output)."""
    text = CAT_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(raw, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def test_counts_are_plausible(raw):
    mods = raw["modules"]
    assert len(mods) >= 240
    assert sum(len(m["functions"]) for m in mods.values()) > 1200
    assert sum(len(m["params"]) for m in mods.values()) > 2000
    assert sum(len(m["pvs"]) for m in mods.values()) > 400
    assert len(raw["core"]["params"]) > 200


def test_no_unparsed_entries(raw):
    notes = raw.get("notes", {})
    assert notes.get("unparsed_entries") == []
    assert notes.get("no_exports") == sorted(NO_EXPORTS)


# ---------------------------------------------------------------- modules vs binary
def test_every_packaged_module_is_catalogued(raw, golden):
    packaged = set(golden["packaged_modules"])
    assert packaged - set(raw["modules"]) == NO_EXPORTS
    assert set(raw["modules"]) - packaged == SOURCE_ONLY


def test_every_packaged_module_loads(golden):
    bad = {m: r["load"] for m, r in golden["modules"].items() if r["load"] != "ok"}
    assert bad == {}
    assert len(golden["modules"]) == len(set(golden["packaged_modules"]) - NO_EXPORTS)


def test_exports_name_defines_mod_symbol(raw, golden):
    """loadmodule defines MOD_<exports name>; the probe checked #!ifdef."""
    for mod, res in _probed(golden).items():
        assert res["mod_define"] is True, (mod, raw["modules"][mod]["exports_name"])
    assert raw["modules"]["ss7ops"]["exports_name"] == "ss7"


def test_function_arities_match_binary(raw, golden):
    max_arity = golden["max_arity_probed"]
    diffs = []
    for mod, res in _probed(golden).items():
        funcs = raw["modules"][mod]["functions"]
        assert set(res["functions"]) == set(funcs), mod
        for fname, probe in res["functions"].items():
            want = _catalogue_arities(funcs[fname], max_arity)
            if want != set(probe["arities"]):
                diffs.append((mod, fname, sorted(want), probe["arities"]))
            assert "odd" not in probe, (mod, fname, probe["odd"])
    assert diffs == []


def test_function_route_types_match_binary(raw, golden):
    max_arity = golden["max_arity_probed"]
    diffs = []
    for mod, res in _probed(golden).items():
        for fname, probe in res["functions"].items():
            entries = raw["modules"][mod]["functions"][fname]
            for n_s, ok_in in probe["ok_in"].items():
                n = int(n_s)
                assert n <= max_arity
                matching = [e for e in entries if e["nparams"] in (n, "var")]
                # the parser takes the first entry with that name, arity and a
                # matching route type, so the union over entries is what counts
                want = sorted(r for r in ROUTE_KINDS
                              if any(Catalogue.route_allows(e, r) for e in matching))
                if want != ok_in:
                    diffs.append((mod, fname, n, want, ok_in))
    assert diffs == []


def test_params_match_binary(raw, golden):
    diffs = []
    for mod, res in _probed(golden).items():
        params = raw["modules"][mod]["params"]
        assert set(res["params"]) == set(params), mod
        for pname, v in res["params"].items():
            types = set(params[pname]["types"])
            want_int = "int" in types
            want_str = bool(types & {"str", "string"})
            got_int = v["int"] != "notfound"
            got_str = v["string"] != "notfound"
            if (want_int, want_str) != (got_int, got_str):
                diffs.append((mod, pname, sorted(types), v))
            for kind in ("int", "string"):
                assert not v[kind].startswith(("crash", "abort", "nomodule")), (mod, pname, v)
    assert diffs == []


def _check_pvs(pvs: dict, probes: dict, where: str):
    assert set(probes) == set(pvs), where
    diffs = []
    decided = {"index": 0, "write": 0}
    for cls, p in probes.items():
        info = pvs[cls]
        # bracketed $(cls): a name parser means an inner name is required
        want_bare = "needs_name" if info["has_name"] else "ok"
        if p["bare"] != want_bare:
            diffs.append((where, cls, "bare", p["bare"]))
        if info["has_name"]:
            if p["named"] in ("no_name", "unknown_pv"):
                diffs.append((where, cls, "named", p["named"]))
        elif p["named"] != "no_name":
            diffs.append((where, cls, "named", p["named"]))
        # index / write are decisive only when the probe name was accepted
        if p["index"] in ("ok", "no_index"):
            decided["index"] += 1
            if (p["index"] == "ok") != info["indexed"]:
                diffs.append((where, cls, "index", p["index"]))
        if p["write"] in ("ok", "readonly"):
            decided["write"] += 1
            if (p["write"] == "ok") != info["writable"]:
                diffs.append((where, cls, "write", p["write"]))
    return diffs, decided


def test_module_pvs_match_binary(raw, golden):
    diffs = []
    decided = {"index": 0, "write": 0}
    total = 0
    for mod, res in _probed(golden).items():
        d, n = _check_pvs(raw["modules"][mod]["pvs"], res["pvs"], mod)
        diffs += d
        total += len(res["pvs"])
        for k in decided:
            decided[k] += n[k]
    assert diffs == []
    assert total > 350
    # most classes could be decided (the rest reject the probe name "x":
    # 283 of 369 when recorded)
    assert decided["index"] > 0.7 * total and decided["write"] > 0.7 * total


def test_core_pvs_match_binary(raw, golden):
    diffs, _ = _check_pvs(raw["core"]["pvs"], golden["core_pvs"], "core")
    assert diffs == []
    assert {"?", "rc", "retcode", "env", "def", "defn", "null"} <= set(raw["core"]["pvs"])


def test_dotted_pv_names_need_brackets_in_code(golden):
    """In script code the lexer cuts $name at '.', so $err.class only works as
    $(err.class) (formats inside strings are parsed by pv_parse_spec)."""
    pv = golden["modules"]["pv"]["pvs"]
    assert pv["err.class"]["bare"] == "ok"
    assert pv["err.class"]["unbracketed"] == "unknown_pv"


# ---------------------------------------------------------------- transformations
def test_transformations_match_binary(raw, golden):
    probes = golden["transformations"]
    assert set(probes) == set(raw["transformations"])
    for cls, names in raw["transformations"].items():
        p = probes[cls]
        assert p["nosuchtrname"] == "unknown_name", cls
        for name in names:
            assert p[name] not in ("unknown_name", "unknown_class"), (cls, name, p[name])
    # names the source compares with a wrong length can never match
    for m in raw["notes"]["transformation_name_mismatch"]:
        assert probes[m["class"]][m["name"]] == "unknown_name"
        assert m["name"] not in raw["transformations"][m["class"]]


def test_transformation_names_sample(cat):
    s = cat.transformation_names("s")
    assert {"len", "substr", "fmtlines", "fmtlinet", "encode.base64", "unquote"} <= s
    assert {"user", "host", "param", "tosocket"} <= cat.transformation_names("uri")
    assert cat.transformation_names("json") == frozenset({"parse"})
    assert cat.transformation_module("sql") == "sqlops"
    assert cat.transformation_names("s", ["pv"]) is s
    assert cat.transformation_names("sql", ["pv"]) is None
    assert cat.transformation_names("nosuch") is None


# ---------------------------------------------------------------- core
def test_core_params_match_binary(raw, golden):
    probes = golden["core"]["params"]
    assert probes.pop("nosuch_core_param") == "error: syntax error"
    assert set(probes) <= set(raw["core"]["params"])
    assert len(probes) > 0.9 * len(raw["core"]["params"])
    bad = {k: v for k, v in probes.items() if v == "error: syntax error"}
    assert bad == {}
    assert {"debug", "children", "listen", "log_stderror", "memdbg", "mem_dbg",
            "tcp_connection_lifetime", "auto_aliases", "kemi.onsend_route_callback"} \
        <= set(raw["core"]["params"])


def test_core_functions_match_binary(raw, golden):
    probes = golden["core"]["functions"]
    assert set(probes) == set(raw["core"]["functions"])
    bad = [(f, form, v) for f, forms in probes.items() for form, v in forms.items() if v != "ok"]
    assert bad == []
    fwd = raw["core"]["functions"]["forward"]
    assert fwd["arities"] == [0, 1, 2] and not fwd["bare"]
    assert raw["core"]["functions"]["drop"]["bare"]


# ---------------------------------------------------------------- the samples the brief names
def test_sample_sl_send_reply(cat, golden):
    assert cat.function_arities("sl", "sl_send_reply") == {2}
    assert golden["modules"]["sl"]["functions"]["sl_send_reply"]["arities"] == [2]


def test_sample_t_relay(cat, golden):
    # 5.6.3 has t_relay() and t_relay(host, port), no 1-parameter form
    assert cat.function_arities("tm", "t_relay") == {0, 2}
    assert golden["modules"]["tm"]["functions"]["t_relay"]["arities"] == [0, 2]


def test_sample_xlog(cat, golden):
    assert cat.function_arities("xlog", "xlog") == {1, 2, 3}
    assert golden["modules"]["xlog"]["functions"]["xlog"]["arities"] == [1, 2, 3]


def test_sample_redis_cmd(cat, golden):
    assert cat.function_arities("ndb_redis", "redis_cmd") == {3, 4, 5, 6}
    assert golden["modules"]["ndb_redis"]["functions"]["redis_cmd"]["arities"] == [3, 4, 5, 6]
    # 7 arguments is refused by the grammar itself
    assert golden["grammar"]["sl_send_reply/7"] == "error: Too many arguments"
    (entry,) = [e for m, e in cat.find_function("redis_cmd", ["ndb_redis"], nparams=3)]
    assert entry["fixup"] == "fixup_redis_cmd6" and entry["free_fixup"] is None


def test_sample_save(cat, golden):
    assert cat.function_arities("registrar", "save") == {1, 2, 3}
    assert golden["modules"]["registrar"]["functions"]["save"]["arities"] == [1, 2, 3]


def test_sample_var_param_no(cat, golden):
    assert cat.function_arities("lcr", "load_gws") == {"var"}
    assert golden["modules"]["lcr"]["functions"]["load_gws"]["arities"] == list(range(7))
    assert cat.function_arities("print", "printv") == {"var"}  # not packaged by Debian


def test_route_blocks_and_kemi(cat, golden):
    g = golden["grammar"]
    # route[x] is parsed with REQUEST_ROUTE rules
    assert (g["t_drop_replies@route"], g["t_drop_replies@request"],
            g["t_drop_replies@failure"]) == ("misused", "misused", "ok")
    assert cat.find_function("t_drop_replies", ["tm"])[0][1]["flags"] == ["FAILURE_ROUTE"]
    # KEMI-only names are not cfg functions
    for key, v in g.items():
        if key.startswith("kemi_only:"):
            assert v == "unknown"
            assert not cat.find_function(key.split(":")[1].split("/")[0])


def test_conditional_entries(raw):
    tm = raw["modules"]["tm"]["functions"]
    assert all(e.get("cond") == ["USE_TLS"] for e in tm["t_relay_to_tls"])
    # rr's ignore_user needs ENABLE_USER_CHECK, which the Makefile leaves off
    assert "ignore_user" not in raw["modules"]["rr"]["params"]
    assert any(e["module"] == "rr" for e in raw["notes"]["inactive_entries"])


# ---------------------------------------------------------------- loader API
def test_loader_api(cat):
    assert load() is cat
    assert cat.has_module("tm") and cat.has_module("tm.so") and cat.has_module("/x/tm.so")
    assert not cat.has_module("nosuchmodule")
    assert cat.module("nosuchmodule") is None
    assert cat.exports_name("ss7ops") == "ss7" and cat.exports_name("tm") == "tm"
    assert cat.function_arities("tm", "nosuch") is None
    assert cat.function_arities("tm", "load_tm") is None  # NO_SCRIPT
    assert cat.find_function("load_tm") == []
    found = cat.find_function("t_on_failure", ["sl", "tm"])
    assert [m for m, _ in found] == ["tm"]
    assert cat.find_function("t_on_failure", ["sl"]) == []
    assert cat.find_function("sl_send_reply", ["sl"], nparams=2, route="request")
    assert not cat.find_function("sl_send_reply", ["sl"], nparams=2, route="failure")
    assert cat.find_function("sl_send_reply", ["sl"], nparams=2, route="event")
    params = cat.module_params("tm")
    assert params["fr_timer"]["type"] == "int"
    assert cat.module_params("jsonrpcs")["fifo_user"]["types"] == ["string", "int"]
    assert cat.module_params("nosuch") is None
    hdr = cat.pv_class("hdr", ["pv"])
    assert hdr["has_name"] and hdr["indexed"] and not hdr["writable"] and hdr["module"] == "pv"
    assert cat.pv_class("hdr") is None  # pv not loaded
    assert cat.pv_class("ru", ["pv"])["writable"]
    assert cat.pv_class("null")["module"] == "core"
    assert cat.pv_class("redis", None)["module"] == "ndb_redis"
    assert "debug" in cat.core_params() and "nosuch" not in cat.core_params()
    assert cat.core_param_syntax("debug") == {"token": "DEBUG_V", "values": [["intno"]]}
    assert cat.core_function("forward")["arities"] == [0, 1, 2]
    assert cat.core_function("xlog") is None
    assert cat.core_keyword("drop") == "DROP" and cat.core_keyword("xlog") is None


# ---------------------------------------------------------------- the .so tables themselves
_PARAM_BITS = {"string": 1, "int": 2, "str": 4, "var": 8}


def test_catalogue_equals_binary_export_tables(raw, golden):
    """Every shipped module's cmd/param/pv tables, read from the .so by the
    probe, equal the catalogue's (names, arities, route flags, fixup
    presence and imported fixup names, param types, PV capabilities)."""
    diffs = []
    for mod, res in golden["modules"].items():
        elf = res["elf"]
        info = raw["modules"][mod]
        assert elf is not None, mod
        assert elf["exports_name"] == info["exports_name"], mod
        # functions, in table order
        ours = [(f, e["nparams"], e["fixup"], e["free_fixup"], e["route_mask"])
                for f, entries in info["functions"].items() for e in entries]
        theirs = [(f, "var" if n == -128 else n, fx, ffx, flags)
                  for f, n, fx, ffx, flags in elf["functions"]]

        def norm(rows):
            out = []
            for f, n, fx, ffx, flags in rows:
                out.append((f, n, fx is not None, ffx is not None, flags))
            return sorted(out, key=repr)

        if norm(ours) != norm(theirs):
            diffs.append((mod, "functions", sorted(set(norm(ours)) ^ set(norm(theirs)))))
        # an imported fixup is named in the .so: it must be the same symbol
        by_key = {}
        for f, n, fx, ffx, flags in ours:
            by_key.setdefault((f, n), set()).add(fx)
        for f, n, fx, ffx, flags in theirs:
            if isinstance(fx, str) and fx not in by_key.get((f, n), ()):
                diffs.append((mod, "fixup", f, n, fx, by_key.get((f, n))))
        # params: name -> set of type masks
        ours_p = {}
        for pname, p in info["params"].items():
            for t in p["types"]:
                ours_p.setdefault(pname, set()).add(
                    _PARAM_BITS[t] | (0x80000000 if p["func"] else 0))
        theirs_p = {}
        for pname, t, _ in elf["params"]:
            theirs_p.setdefault(pname, set()).add(t)
        if set(ours_p) != set(theirs_p):
            diffs.append((mod, "param names", sorted(set(ours_p) ^ set(theirs_p))))
        for pname in set(ours_p) & set(theirs_p):
            # "func" is per name in the catalogue: compare the type bits, and
            # USE_FUNC where the name is declared once
            if {t & 0xF for t in ours_p[pname]} != {t & 0xF for t in theirs_p[pname]}:
                diffs.append((mod, "param type", pname, ours_p[pname], theirs_p[pname]))
            if len(theirs_p[pname]) == 1 and ours_p[pname] != theirs_p[pname]:
                diffs.append((mod, "param func", pname, ours_p[pname], theirs_p[pname]))
        # pvs
        theirs_v = {n: (w, pn, pi) for n, w, pn, pi in elf["pvs"]}
        ours_v = {n: (v["writable"], v["has_name"], v["indexed"]) for n, v in info["pvs"].items()}
        if ours_v != theirs_v:
            diffs.append((mod, "pvs", sorted(set(ours_v.items()) ^ set(theirs_v.items()))))
    assert diffs == []


def test_transformations_complete(golden):
    """No string of the registering .so is a transformation name the
    catalogue lacks (tried through modparamx, see the probe)."""
    comp = golden["transformations_completeness"]
    assert set(comp) == set(golden["transformations"])
    assert {cls: c["missing"] for cls, c in comp.items() if c["missing"]} == {}
    assert all(c["strings"] > 50 for c in comp.values())
