"""kscript.runtime.gcpolicy: the collector thresholds set when a script is loaded."""

import ast
import gc
import os
import subprocess
import sys

from kscript.runtime import gcpolicy

_PROBE = ("import gc, sys; {pre}import kscript; kscript.load(sys.argv[1]); print(gc.get_threshold())")


def _thresholds(tmp_path, pre="", env=None):
    cfg = tmp_path / "k.cfg"
    cfg.write_text('loadmodule "sl.so"\nrequest_route { sl_send_reply("200", "OK"); }\n')
    e = dict(os.environ)
    e.pop("KSCRIPT_GC", None)
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", _PROBE.format(pre=pre), str(cfg)], capture_output=True, text=True,
                         env=e, check=True).stdout
    return ast.literal_eval(out.strip())


def test_load_raises_the_default_first_threshold(tmp_path):
    assert _thresholds(tmp_path) == gcpolicy.KSCRIPT_THRESHOLDS


def test_thresholds_a_program_set_are_kept(tmp_path):
    assert _thresholds(tmp_path, pre="gc.set_threshold(500, 5, 5); ") == (500, 5, 5)


def test_environment_keeps_the_default(tmp_path):
    assert _thresholds(tmp_path, env={"KSCRIPT_GC": "default"}) == gcpolicy.DEFAULT_THRESHOLDS


def test_tune_acts_once(monkeypatch):
    monkeypatch.setattr(gcpolicy, "_done", False)
    saved = gc.get_threshold()
    try:
        gc.set_threshold(*gcpolicy.DEFAULT_THRESHOLDS)
        assert gcpolicy.tune() is True
        assert gc.get_threshold() == gcpolicy.KSCRIPT_THRESHOLDS
        gc.set_threshold(*gcpolicy.DEFAULT_THRESHOLDS)
        assert gcpolicy.tune() is False  # once per process
    finally:
        gc.set_threshold(*saved)
