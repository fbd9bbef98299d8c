"""The client against a runtime with a JWT authorizer: HTTPS with a bearer token instead of SigV4.

Every command runs against the emulator in JWT mode, with ``--bearer-token`` or
``AGENTCORE_BEARER_TOKEN`` and through a named endpoint; refusals become the same typed errors
(and CLI lines and hints) as on the boto3 path.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agentcore_async.client import AgentClient, Throttled, Unauthorized
from agentcore_async.client.cli import main
from agentcore_async.client.exit_codes import ExitCode
from tests.emulator.harness import RunningEmulator, running_emulator
from tests.support.jwt_issuer import AUDIENCE, LocalIssuer

ISSUER = LocalIssuer()
TOKEN = ISSUER.token("client-user")


@pytest.fixture(scope="module")
def jwt_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    jwks = ISSUER.jwks_file(tmp_path_factory.mktemp("jwks"))
    flags = ("--idle-timeout", "60", "--max-lifetime", "600", "--ping-interval", "0.3")
    auth = ("--jwt-jwks", str(jwks), "--jwt-audience", AUDIENCE, "--qualifier", "live")
    env = {"AGENT_MODEL_FACTORY": "tests.agent.scripted_model:create"}
    with running_emulator(*flags, *auth, env=env) as emulator:
        yield emulator


def cli(emulator: RunningEmulator, state: Path, command: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    target = ["--endpoint-url", emulator.url, "--runtime-arn", emulator.arn, "--qualifier", "live"]
    code = main([command, *target, "--state-file", str(state), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_every_command_works_with_a_bearer_token(
    jwt_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "session.json"
    code, out, err = cli(jwt_emulator, state, "start", "--duration", "1", "--bearer-token", TOKEN)
    assert code == ExitCode.OK, err
    task_id = out.strip()
    monkeypatch.setenv("AGENTCORE_BEARER_TOKEN", TOKEN)  # the rest read the token from the environment
    code, out, err = cli(jwt_emulator, state, "wait", task_id, "--timeout", "30", "--json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["status"] == "COMPLETED"
    assert json.loads(cli(jwt_emulator, state, "result", task_id, "--json")[1])["status"] == "COMPLETED"
    listed = json.loads(cli(jwt_emulator, state, "list", "--json")[1])
    assert [task["task_id"] for task in listed["tasks"]] == [task_id]
    long = cli(jwt_emulator, state, "start", "--duration", "60")[1].strip()
    code, out, _ = cli(jwt_emulator, state, "cancel", long, "--json")
    assert code == ExitCode.OK and json.loads(out)["status"] == "CANCELLED"
    code, out, _ = cli(jwt_emulator, state, "kinds")
    assert code == ExitCode.OK and "sleep" in out
    code, out, err = cli(jwt_emulator, state, "invoke", "--prompt", "start a 1 second task")
    assert code == ExitCode.OK, err
    code, _, err = cli(jwt_emulator, state, "stop")
    assert code == ExitCode.OK, err
    session_id = json.loads(state.read_text())["session_id"]
    assert jwt_emulator.rows(session_id)[-1]["end_reason"] == "stopped"


def test_the_library_takes_the_token_too(jwt_emulator: RunningEmulator) -> None:
    agent = AgentClient.connect(
        jwt_emulator.arn, endpoint_url=jwt_emulator.url, qualifier="live", bearer_token=TOKEN
    )
    task_id = agent.start(0.5)
    assert agent.wait(task_id, timeout=30).status.value == "COMPLETED"
    other_user = AgentClient.connect(
        jwt_emulator.arn,
        endpoint_url=jwt_emulator.url,
        session_id=agent.session_id,
        bearer_token=ISSUER.token("someone-else"),
    )
    assert other_user.list()["tasks"] == []
    agent.stop_session()


def test_a_refused_token_is_one_line_with_a_hint(jwt_emulator: RunningEmulator, tmp_path: Path) -> None:
    expired = ISSUER.token("client-user", expires_in=-5)
    code, out, err = cli(
        jwt_emulator, tmp_path / "s.json", "start", "--duration", "1", "--bearer-token", expired
    )
    assert code == ExitCode.FAILED and out == ""
    lines = err.strip().splitlines()[-2:]  # after the line naming the new session
    assert lines[0] == "UnauthorizedException: The bearer token has expired"
    assert lines[1].startswith("hint: the bearer token was refused")
    with pytest.raises(Unauthorized):
        AgentClient.connect(jwt_emulator.arn, endpoint_url=jwt_emulator.url, bearer_token=expired).list()


def test_sigv4_against_a_jwt_runtime_says_to_pass_a_token(
    jwt_emulator: RunningEmulator, tmp_path: Path
) -> None:
    code, _, err = cli(jwt_emulator, tmp_path / "s.json", "start", "--duration", "1")
    assert code == ExitCode.FAILED
    lines = err.strip().splitlines()[-2:]
    assert lines[0].startswith("AccessDeniedException: Authorization method mismatch")
    assert "--bearer-token or set AGENTCORE_BEARER_TOKEN" in lines[1]


class _Throttling(BaseHTTPRequestHandler):
    """Answers ThrottlingException to the first ``throttled`` calls, then an agent's answer."""

    calls: list[dict[str, Any]] = []  # noqa: RUF012 - shared by the server's handler instances
    throttled = 2

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
        throttled = len(type(self).calls) <= type(self).throttled
        answer: dict[str, Any] = (
            {"message": "Rate exceeded"} if throttled else {"tasks": [], "next_cursor": None}
        )
        data = json.dumps(answer).encode()
        self.send_response(429 if throttled else 200)
        if throttled:
            self.send_header("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_throttling_is_retried_like_the_boto3_path_then_raised() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-AbCdEfGh12"
    try:
        agent = AgentClient.connect(
            arn, endpoint_url=f"http://127.0.0.1:{server.server_port}", bearer_token="t0ken"
        )
        assert agent.list() == {"tasks": [], "next_cursor": None}  # third attempt
        calls = _Throttling.calls
        assert len(calls) == 3
        assert (
            calls[0]["path"]
            == f"/runtimes/{arn.replace(':', '%3A').replace('/', '%2F')}/invocations?qualifier=DEFAULT"
        )
        assert calls[0]["auth"] == "Bearer t0ken"
        assert json.loads(calls[0]["body"]) == {"action": "list_tasks"}
        _Throttling.throttled = 1000  # every next call is throttled: three tries, then the error
        with pytest.raises(Throttled):
            agent.list()
        assert len(_Throttling.calls) == 6
    finally:
        server.shutdown()
        server.server_close()


def test_the_token_never_shows_in_the_target() -> None:
    from agentcore_async.client.target import resolve_target  # noqa: PLC0415

    target = resolve_target(
        runtime_arn="arn:aws:bedrock-agentcore:us-east-1:1:runtime/a-b", bearer_token="s3cr3t"
    )
    assert target.bearer_token == "s3cr3t" and "s3cr3t" not in repr(target)
