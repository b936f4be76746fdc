"""The browser client in real headless Chromium: a whole interview by voice over WebRTC.

The work happens in tests/browser_scenario.py, run here in a private network namespace
that has only loopback (see its docstring); this test checks its exit code and report.
Chromium comes from Debian (`scripts/install-browser`); without it, or without `unshare`
and `ip`, the test is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser_scenario import CHROMIUM
from tests.conftest import IN_CI

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
SCENARIO_TIMEOUT_S = 300


def _namespace_command() -> list[str]:
    """`unshare` for a network namespace of our own: as root, or via a user namespace."""
    return ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing: run scripts/install-browser (as root) to install it"
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"`{tool}` is missing (Debian packages util-linux and iproute2)"
    probe = subprocess.run(
        [*_namespace_command(), "true"], capture_output=True, text=True, timeout=10
    )
    if probe.returncode != 0:
        return f"cannot create a network namespace with unshare: {probe.stderr.strip()}"
    return None


def test_voice_interview_in_chromium() -> None:
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"the browser test needs this in CI: {reason}")
        pytest.skip(reason)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    script = 'ip link set lo up && exec "$0" -m tests.browser_scenario --artifacts "$1"'
    env = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"}
    done = subprocess.run(
        [*_namespace_command(), "bash", "-c", script, sys.executable, str(ARTIFACTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_S,
    )
    (ARTIFACTS / "scenario.log").write_text(done.stderr)
    (ARTIFACTS / "report.json").write_text(done.stdout)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the scenario printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(lines[-1])
    assert report["problems"] == [], (
        f"{report['problems']}\nsee {ARTIFACTS}/report.json, scenario.log and the screenshots"
    )
    assert done.returncode == 0

    collector, interview = report["calls"]["collector"], report["calls"]["interview"]
    assert collector["turns"][-1] is None and report["interview_setup"]["amount"] == 2
    assert len([t for t in interview["user_transcripts"] if t]) >= 2
    assert interview["turns"] == [0, 1, None]
    assert isinstance(report["feedback_total"], int)
    for call in (collector, interview):
        assert call["timings_ms"]["ice_connected"] < 5000
        assert call["max_remote_level"] > 0.01 and call["max_mic_level"] > 0.01
    assert len(report["screenshots"]) >= 4
    # per-answer feedback quoting the spoken answers, with delivery; the progress chart
    assert len(report["answers_shown"]) == 2
    assert all(a["delivery"] and "words/min" in a["delivery"] for a in report["answers_shown"])
    assert len(report["progress"]["interviews"]) == 2
