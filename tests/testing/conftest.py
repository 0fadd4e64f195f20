"""Tests of kscript.testing: the scenario runner, the pytest plugin (through
pytester), schema errors, mocks, the clock, coverage and cfgt traces."""

import os
import textwrap

import pytest

pytest_plugins = ["pytester"]

SMALL_CFG = """\
#!KAMAILIO
debug=2
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "nathelper.so"
loadmodule "speeddial.so"

request_route {
    $var(n) = $var(n) + 1;
    if (is_method("OPTIONS")) {
        xlog("L_INFO", "options from $si n=$var(n) at $Ts\\n");
        route(PING);
        exit;
    }
    xlog("L_WARN", "other $rm\\n");
    sd_lookup("speed_dial", "sip:$rU@example.com");
}

route[PING] {
    $avp(seen) = $si;
    nat_uac_test("19");
}
"""


@pytest.fixture
def small_cfg_text():
    return SMALL_CFG


@pytest.fixture
def small_cfg(tmp_path):
    """A cfg with two functions kscript does not emulate (mocked by the tests)."""
    p = tmp_path / "small.cfg"
    p.write_text(SMALL_CFG)
    return p


def _write(path, text: str):
    path = os.fspath(path)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


@pytest.fixture
def write():
    """write(path, text): a dedented file."""
    return _write
