"""The emulator in JWT mode refuses calls the way an AgentCore runtime with a JWT authorizer does.

AgentCore validates the bearer token's signature (against the issuer's keys), expiry and audience
before a call reaches the container, and answers a missing or invalid token with
``UnauthorizedException``, HTTP 401 ("This exception is thrown when the JWT bearer token is invalid
or not found for OAuth bearer token based access": AgentCore data plane API reference and the
``bedrock-agentcore`` service model). A SigV4-signed call to a JWT runtime, and a bearer token sent
to an IAM runtime, get ``AccessDeniedException`` (403) "Authorization method mismatch".

Behind the authorizer a task belongs to its caller on every store the agent runs on: SQLite,
DynamoDB + S3 (moto in server mode) and Redis (a real redis-server, ephemeral tasks).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from agent.store.redis_store import RedisStore
from agentcore_async.contract import SESSION_HEADER
from tests.agent.aws import AwsResources, create_resources
from tests.emulator.conftest import STANDARD_FLAGS
from tests.emulator.harness import REPO_ROOT, RunningEmulator, emulator_env, running_emulator
from tests.support.jwt_issuer import AUDIENCE, LocalIssuer, bearer, serving_discovery
from tests.support.servers import MotoServer, RedisServer

ISSUER = LocalIssuer()
IMPOSTOR = LocalIssuer(kid=ISSUER.kid)
"""Another key under the same key id: its tokens carry a signature the issuer's key does not verify."""


def post(
    emulator: RunningEmulator,
    payload: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    session: str | None = None,
    operation: str = "invocations",
    qualifier: str | None = None,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A raw HTTPS-style call, as a bearer-token caller makes it: (status, headers, JSON body)."""
    url = f"{emulator.url}/runtimes/{urllib.parse.quote(emulator.arn, safe='')}/{operation}"
    if qualifier is not None:
        url += f"?qualifier={qualifier}"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header(SESSION_HEADER, session or f"jwt-{uuid.uuid4().hex}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(response.read()),
            )
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read())


def refused_as_unauthorized(answer: tuple[int, dict[str, str], dict[str, Any]]) -> str:
    status, headers, body = answer
    assert status == 401, body
    assert headers["x-amzn-errortype"] == "UnauthorizedException"
    assert body["__type"] == "UnauthorizedException"
    return str(body["message"])


@pytest.fixture(scope="module")
def jwt_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    jwks = ISSUER.jwks_file(tmp_path_factory.mktemp("jwks"))
    flags = ("--jwt-jwks", str(jwks), "--jwt-audience", AUDIENCE, "--qualifier", "live")
    with running_emulator(*STANDARD_FLAGS, *flags) as emulator:
        yield emulator


LIST = {"action": "list_tasks"}


def test_a_call_without_a_token_is_refused(jwt_emulator: RunningEmulator) -> None:
    assert "Bearer" in refused_as_unauthorized(post(jwt_emulator, LIST))
    # StopRuntimeSession is guarded the same way.
    refused_as_unauthorized(post(jwt_emulator, {}, operation="stopruntimesession"))


def test_an_expired_token_is_refused(jwt_emulator: RunningEmulator) -> None:
    expired = ISSUER.token("alice", expires_in=-30)
    assert "expired" in refused_as_unauthorized(post(jwt_emulator, LIST, headers=bearer(expired)))


def test_a_token_for_another_audience_is_refused(jwt_emulator: RunningEmulator) -> None:
    other = ISSUER.token("alice", audience="some-other-api")
    assert "audience" in refused_as_unauthorized(post(jwt_emulator, LIST, headers=bearer(other)))


def test_a_token_with_a_wrong_signature_is_refused(jwt_emulator: RunningEmulator) -> None:
    forged = IMPOSTOR.token("alice")
    assert "signature" in refused_as_unauthorized(post(jwt_emulator, LIST, headers=bearer(forged)))


def test_a_sigv4_signed_call_is_an_authorization_method_mismatch(jwt_emulator: RunningEmulator) -> None:
    client = jwt_emulator.boto()  # signs with the test's AWS credentials
    with pytest.raises(ClientError) as refused:
        client.invoke_agent_runtime(
            agentRuntimeArn=jwt_emulator.arn, runtimeSessionId=f"jwt-{uuid.uuid4().hex}", payload=b"{}"
        )
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert refused.value.response["Error"]["Message"].startswith("Authorization method mismatch")


@dataclass(frozen=True)
class JwtStore:
    """An emulator in JWT mode whose agents keep their tasks in one store."""

    emulator: RunningEmulator
    start: dict[str, Any]
    """The start payload: durable on SQLite and DynamoDB + S3, ephemeral (Redis) on Redis."""
    owner: Callable[[str, str], str | None]
    """The ``owner`` of a task's record as that store holds it (session id, task id)."""


def _sqlite_owner(emulator: RunningEmulator) -> Callable[[str, str], str | None]:
    def owner(session: str, task_id: str) -> str | None:
        record = emulator.stored(session, task_id)
        return None if record is None else record.get("owner")

    return owner


def _dynamodb_owner(aws: AwsResources) -> Callable[[str, str], str | None]:
    def owner(session: str, task_id: str) -> str | None:
        item = aws.item(session, task_id)
        return None if item is None or "owner" not in item else str(item["owner"]["S"])

    return owner


def _redis_owner(store: RedisStore) -> Callable[[str, str], str | None]:
    def owner(session: str, task_id: str) -> str | None:
        record = store.get(session, task_id)
        return None if record is None else record.owner

    return owner


SLEEP_30 = {"action": "start_task", "kind": "sleep", "input": {"duration": 30}}


@pytest.fixture(scope="module", params=["sqlite", "dynamodb+s3", "redis"])
def jwt_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JwtStore]:
    """The JWT emulator on each store the agent runs on."""
    if request.param == "sqlite":
        emulator: RunningEmulator = request.getfixturevalue("jwt_emulator")
        yield JwtStore(emulator, {"action": "start_background_task", "duration": 30}, _sqlite_owner(emulator))
        return
    jwks = ISSUER.jwks_file(tmp_path_factory.mktemp("jwks"))
    flags = ("--jwt-jwks", str(jwks), "--jwt-audience", AUDIENCE, "--qualifier", "live")
    if request.param == "dynamodb+s3":
        moto: MotoServer = request.getfixturevalue("moto_server")
        aws = create_resources(moto)
        with running_emulator(*STANDARD_FLAGS, *flags, env=aws.env(), shared_store=False) as emulator:
            yield JwtStore(emulator, SLEEP_30, _dynamodb_owner(aws))
        return
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    env = {"AGENT_REDIS_URL": redis_server.url}
    with (
        running_emulator(*STANDARD_FLAGS, *flags, env=env) as emulator,
        contextlib.closing(RedisStore(redis_server.url)) as store,
    ):
        yield JwtStore(emulator, {**SLEEP_30, "retention": "ephemeral"}, _redis_owner(store))


def test_a_valid_token_reaches_the_agent_which_keeps_users_apart(jwt_store: JwtStore) -> None:
    emulator, session = jwt_store.emulator, f"shared-{uuid.uuid4().hex}"
    alice, bob = bearer(ISSUER.token("alice")), bearer(ISSUER.token("bob"))
    status, headers, started = post(emulator, jwt_store.start, headers=alice, session=session)
    assert status == 200 and headers[SESSION_HEADER.lower()] == session, started
    task_id = started["task_id"]
    assert jwt_store.owner(session, task_id) == "alice"  # in the store under test, as Alice's
    get = {"action": "get_task_result", "task_id": task_id}
    mine = post(emulator, get, headers=alice, session=session)[2]
    assert mine["status"] == "RUNNING"
    assert mine["retention"] == jwt_store.start.get("retention", "durable")

    # Bob, in the same session, cannot see, poll, list or cancel it.
    cancel = {"action": "cancel_task", "task_id": task_id}
    for payload in (get, {**get, "wait_seconds": 1}, cancel):
        status, _, body = post(emulator, payload, headers=bob, session=session)
        assert status == 200 and set(body) == {"error"}, body
        assert body["error"]["code"] == "TaskNotFound"
    assert post(emulator, LIST, headers=bob, session=session)[2]["tasks"] == []
    # ... and Alice still sees it, untouched.
    assert post(emulator, get, headers=alice, session=session)[2]["status"] == "RUNNING"
    assert [t["task_id"] for t in post(emulator, LIST, headers=alice, session=session)[2]["tasks"]] == [
        task_id
    ]
    # The named endpoint is accepted like DEFAULT; an unknown one is not.
    assert post(emulator, LIST, headers=alice, session=session, qualifier="live")[2]["tasks"]
    status, _, body = post(emulator, LIST, headers=alice, session=session, qualifier="canary")
    assert status == 404 and body["__type"] == "ResourceNotFoundException"
    assert post(emulator, cancel, headers=alice, session=session)[2]["status"] == "CANCELLED"


def test_jwt_issuer_refuses_a_token_of_another_issuer(jwt_emulator: RunningEmulator, tmp_path: Path) -> None:
    elsewhere = ISSUER.token("dave", issuer="https://elsewhere.example.test")
    # Without --jwt-issuer (and no discovery document) the iss claim is not checked ...
    assert post(jwt_emulator, LIST, headers=bearer(elsewhere))[0] == 200
    flags = ("--jwt-jwks", str(ISSUER.jwks_file(tmp_path)), "--jwt-audience", AUDIENCE)
    with running_emulator(*STANDARD_FLAGS, *flags, "--jwt-issuer", ISSUER.issuer) as emulator:
        # ... with it, a token naming another issuer is refused as AgentCore refuses it,
        assert "issuer" in refused_as_unauthorized(post(emulator, LIST, headers=bearer(elsewhere)))
        # and one of the configured issuer reaches the agent.
        good = post(emulator, LIST, headers=bearer(ISSUER.token("dave")))
        assert good[0] == 200 and good[2]["tasks"] == [], good


def test_an_iam_runtime_refuses_a_bearer_token(emulator: RunningEmulator) -> None:
    status, headers, body = post(emulator, LIST, headers=bearer(ISSUER.token("alice")))
    assert status == 403 and headers["x-amzn-errortype"] == "AccessDeniedException", body
    assert body["message"].startswith("Authorization method mismatch")


def test_the_discovery_document_names_the_keys_and_the_issuer() -> None:
    with (
        serving_discovery(ISSUER) as discovery,
        running_emulator(
            *STANDARD_FLAGS, "--jwt-discovery-url", discovery.url, "--jwt-audience", AUDIENCE
        ) as emulator,
    ):
        assert discovery.requests == ["/.well-known/openid-configuration", "/jwks.json"]
        good = post(emulator, LIST, headers=bearer(ISSUER.token("carol")))
        assert good[0] == 200 and good[2]["tasks"] == [], good
        wrong_issuer = ISSUER.token("carol", issuer="https://elsewhere.example.test")
        assert "issuer" in refused_as_unauthorized(post(emulator, LIST, headers=bearer(wrong_issuer)))


def emulator_exit(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", *flags],
        cwd=REPO_ROOT,
        env=emulator_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_incomplete_or_unreadable_jwt_settings_stop_the_emulator_with_one_line(tmp_path: Path) -> None:
    no_keys = emulator_exit("--jwt-audience", AUDIENCE)
    assert no_keys.returncode == 2
    assert "exactly one of --jwt-jwks FILE and --jwt-discovery-url URL" in no_keys.stderr
    nothing_accepted = emulator_exit("--jwt-jwks", str(ISSUER.jwks_file(tmp_path)))
    assert nothing_accepted.returncode == 2 and "--jwt-audience or --jwt-client" in nothing_accepted.stderr
    (tmp_path / "broken.json").write_text("{not json")
    unreadable = emulator_exit("--jwt-jwks", str(tmp_path / "broken.json"), "--jwt-audience", AUDIENCE)
    assert unreadable.returncode == 2
    assert unreadable.stderr.strip().splitlines() == [
        line for line in unreadable.stderr.strip().splitlines() if "cannot load the JWT signing keys" in line
    ]
    assert "Traceback" not in unreadable.stderr
