"""``python -m agentcore_async.client smoke``: the post-deploy check, run here against the emulator.

The same command runs unchanged against a deployed stage; only the target differs.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from tests.client.fake_runtime import running_fake_runtime
from tests.emulator.harness import REPO_ROOT, RunningEmulator, running_emulator
from tests.support.jwt_issuer import AUDIENCE, LocalIssuer

CHECKS = ["start", "wait", "list", "cancel", "isolation"]
LINE = re.compile(r"(PASS|FAIL)  (\w+)\s+\d+\.\d\ds  .*")


def verdicts(out: str) -> dict[str, str]:
    """check name -> PASS/FAIL, from the one line each check prints."""
    found = [LINE.fullmatch(line) for line in out.splitlines()]
    return {match.group(2): match.group(1) for match in found if match}


def smoke(*target: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["smoke", *target, "--task-seconds", "1"], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_smoke_passes_against_the_emulator(emulator: RunningEmulator) -> None:
    code, out, err = smoke("--endpoint-url", emulator.url, "--runtime-arn", emulator.arn)
    assert code == ExitCode.OK, out + err
    assert verdicts(out) == dict.fromkeys(CHECKS, "PASS")
    assert out.splitlines()[-1] == "smoke: 5 passed, 0 failed"
    session_id = re.search(r"session (smoke-[0-9a-f]{32})", out)
    assert session_id is not None
    smoke_vms = [row for row in emulator.table()["sessions"] if row["session_id"].startswith("smoke-")]
    assert len({row["session_id"] for row in smoke_vms}) == 2  # its own session and the "other" one
    assert all(row["end_reason"] == "stopped" for row in smoke_vms)  # and it leaves no microVM behind


def test_every_check_fails_on_a_runtime_the_endpoint_does_not_know(emulator: RunningEmulator) -> None:
    unknown = emulator.arn.rsplit("/", 1)[0] + "/not_deployed-AbCdEf1234"
    code, out, _ = smoke("--endpoint-url", emulator.url, "--runtime-arn", unknown)
    assert code == ExitCode.FAILED
    assert verdicts(out) == dict.fromkeys(CHECKS, "FAIL")
    assert "ResourceNotFoundException" in out
    assert out.splitlines()[-1] == "smoke: 0 passed, 5 failed"


def test_an_agent_that_leaks_tasks_across_sessions_fails_isolation_only() -> None:
    with running_fake_runtime(leaky=True) as runtime:
        code, out, _ = smoke("--endpoint-url", runtime.url, "--runtime-arn", runtime.arn)
    assert code == ExitCode.FAILED
    assert verdicts(out) == {**dict.fromkeys(CHECKS, "PASS"), "isolation": "FAIL"}
    assert "another session read task" in out
    assert out.splitlines()[-1] == "smoke: 4 passed, 1 failed"


def test_smoke_reads_the_target_from_the_outputs_file_like_every_command(tmp_path: Path) -> None:
    with running_fake_runtime() as runtime:
        outputs = {
            "AgentCoreAsync-dev-Runtime": {"RuntimeArn": runtime.arn},
            "AgentCoreAsync-prod-Runtime": {},
        }
        (tmp_path / "cdk-outputs.json").write_text(json.dumps(outputs))
        env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTCORE_")}
        env.update({"PYTHONPATH": str(REPO_ROOT), "AGENTCORE_ENDPOINT_URL": runtime.url})
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentcore_async.client",
                "smoke",
                "--stage",
                "dev",
                "--task-seconds",
                "0.5",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        sessions = {session_id for session_id, _ in runtime.calls}
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.splitlines()[-1] == "smoke: 5 passed, 0 failed"
    assert len(sessions) == 2
    assert not (tmp_path / ".agentcore-session.json").exists()  # the user's saved session is untouched


def test_smoke_passes_in_jwt_mode_through_a_named_endpoint(tmp_path: Path) -> None:
    """Against a runtime with a JWT authorizer: every check passes with a bearer token, and its
    sessions are stopped with it too; without one every check fails as AgentCore refuses it."""
    issuer = LocalIssuer()
    auth = ("--jwt-jwks", str(issuer.jwks_file(tmp_path)), "--jwt-audience", AUDIENCE, "--qualifier", "live")
    timers = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
    with running_emulator(*timers, *auth) as emulator:
        target = ("--endpoint-url", emulator.url, "--runtime-arn", emulator.arn, "--qualifier", "live")
        code, out, err = smoke(*target, "--bearer-token", issuer.token("smoke-user"))
        assert code == ExitCode.OK, out + err
        assert verdicts(out) == dict.fromkeys(CHECKS, "PASS")
        assert " with a bearer token, session " in out.splitlines()[0]
        smoke_vms = [row for row in emulator.table()["sessions"] if row["session_id"].startswith("smoke-")]
        assert smoke_vms and all(row["end_reason"] == "stopped" for row in smoke_vms)

        code, out, _ = smoke(*target, "--bearer-token", issuer.token("smoke-user", expires_in=-5))
        assert code == ExitCode.FAILED
        assert verdicts(out) == dict.fromkeys(CHECKS, "FAIL")
        assert "UnauthorizedException: The bearer token has expired" in out
