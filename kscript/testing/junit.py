"""JUnit XML for scenario results (``kscript test --junit FILE``), in the shape CI
systems read (one ``<testsuite>``, a ``<testcase>`` per scenario with
``<failure>``/``<error>``/``<skipped>``)."""

from __future__ import annotations

import os
import socket
import time
import xml.etree.ElementTree as ET

from .runner import ERROR, FAILED, SKIPPED, XFAILED, XPASSED, ScenarioResult

__all__ = ["junit_xml", "write_junit"]


def _classname(path: str) -> str:
    rel = os.path.relpath(path) if not os.path.isabs(path) or path.startswith(os.getcwd()) else path
    for suf in (".kst.yaml", ".kst.yml"):
        if rel.endswith(suf):
            rel = rel[: -len(suf)]
    return rel.replace(os.sep, ".").lstrip(".")


def junit_xml(results: list[ScenarioResult], suite_name: str = "kscript") -> str:
    suites = ET.Element("testsuites")
    failures = sum(1 for r in results if r.status in (FAILED, XPASSED))
    errors = sum(1 for r in results if r.status == ERROR)
    skipped = sum(1 for r in results if r.status in (SKIPPED, XFAILED))
    total_time = sum(r.duration for r in results)
    suite = ET.SubElement(suites, "testsuite", {
        "name": suite_name, "tests": str(len(results)), "failures": str(failures), "errors": str(errors),
        "skipped": str(skipped), "time": f"{total_time:.3f}",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "hostname": socket.gethostname()})
    for r in results:
        tc = ET.SubElement(suite, "testcase", {"classname": _classname(r.file), "name": r.name,
                                               "file": r.file, "line": str(r.line), "time": f"{r.duration:.3f}"})
        if r.status in (FAILED, XPASSED):
            el = ET.SubElement(tc, "failure", {"message": r.message, "type": "ScenarioFailure"})
            el.text = r.details or r.message
        elif r.status == ERROR:
            el = ET.SubElement(tc, "error", {"message": r.message, "type": "ScenarioError"})
            el.text = r.details or r.message
        elif r.status in (SKIPPED, XFAILED):
            ET.SubElement(tc, "skipped", {"message": r.message, "type": "xfail" if r.status == XFAILED else "skip"})
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(results: list[ScenarioResult], path: str, suite_name: str = "kscript") -> None:
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(junit_xml(results, suite_name))
