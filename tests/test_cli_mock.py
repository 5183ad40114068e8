"""``crmsync mock`` as a user runs it: a real process, one JSON line, clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request


def test_mock_prints_one_json_line_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "mock", "--hubspot-port", "0", "--salesforce-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"hubspot_url", "hubspot_token", "salesforce_url", "salesforce_token", "ca_file"}
        assert info["salesforce_url"].startswith("https://127.0.0.1:")
        with urllib.request.urlopen(info["hubspot_url"] + "/__mock/stats", timeout=10) as resp:
            stats = json.loads(resp.read())
        assert stats["api_calls"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        proc.kill()
        proc.wait()
