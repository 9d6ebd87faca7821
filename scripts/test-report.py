#!/usr/bin/env python3
"""Reads the TRX reports of scripts/test.sh's passes (artifacts/test-results/<pass>/*.trx) and the Python client's
JUnit report, and prints what a reader of a CI log needs at its end: every failed test with the first lines of its
message, and the test classes that took the most time in each pass (where CI's minutes go).

Usage: scripts/test-report.py <results folder> [slowest classes per pass, default 8]
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
FAILED = {"Failed", "Error", "Timeout", "Aborted"}


def seconds(duration):
    if not duration:
        return 0.0
    hours, minutes, secs = duration.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def first_lines(text, count=3):
    lines = [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[:count]


def trx_pass(folder):
    """(failures, seconds by class) of one pass: failures as (test, message lines)."""
    failures, by_class = [], defaultdict(float)
    for path in sorted(glob.glob(os.path.join(folder, "*.trx"))):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as error:
            failures.append((os.path.basename(path), [f"unreadable report: {error}"]))
            continue
        classes = {}
        for test in root.iterfind(".//t:UnitTest", NS):
            method = test.find("t:TestMethod", NS)
            if method is not None:
                classes[test.get("id")] = method.get("className") or "?"
        for result in root.iterfind(".//t:UnitTestResult", NS):
            name = classes.get(result.get("testId"), "?")
            by_class[name.rsplit(".", 1)[-1]] += seconds(result.get("duration"))
            if result.get("outcome") in FAILED:
                message = result.find("t:Output/t:ErrorInfo/t:Message", NS)
                failures.append((result.get("testName") or name, first_lines(message.text if message is not None else "")))
    return failures, by_class


def junit_failures(path):
    failures = []
    if not os.path.exists(path):
        return failures
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        return [(path, [f"unreadable report: {error}"])]
    for case in root.iter("testcase"):
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            failures.append((f"{case.get('classname')}.{case.get('name')}", first_lines(bad.get("message") or bad.text)))
    return failures


def main():
    results = sys.argv[1]
    slowest = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    all_failures = []
    for folder in sorted(glob.glob(os.path.join(results, "*"))):
        name = os.path.basename(folder)
        if name == "python":
            all_failures += [(f"python: {test}", lines) for test, lines in junit_failures(os.path.join(folder, "junit.xml"))]
            continue
        failures, by_class = trx_pass(folder)
        all_failures += [(f"{name}: {test}", lines) for test, lines in failures]
        if by_class:
            top = sorted(by_class.items(), key=lambda item: -item[1])[:slowest]
            print(f"==> {name}: slowest test classes (seconds, summed over their tests): "
                  + ", ".join(f"{cls} {secs:.0f}" for cls, secs in top))
    for test, lines in all_failures:
        print(f"FAILED {test}")
        for line in lines:
            print(f"    {line[:300]}")


if __name__ == "__main__":
    main()
