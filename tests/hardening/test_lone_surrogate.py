"""Text JSON can escape but Unicode cannot hold: a lone UTF-16 surrogate (``"\\ud800"``) in any string
of the payload is refused as InvalidField naming where it is, in a 200 answer, never a 500 (whose body
AgentCore drops); a valid surrogate pair is just a character."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.helpers import eventually, new_session
from tests.hardening.rawhttp import Reply, send
from tests.support.agent_process import FAST_TIMERS, SESSION_HEADER, TEST_KINDS, AgentProcess, running_agent

NOTE_KIND = {"AGENT_EXTRA_KINDS": TEST_KINDS["AGENT_EXTRA_KINDS"] + ",tests.support.note_kind"}
"""The test kinds plus ``note``, whose input has a plain ``str`` field."""


@pytest.fixture(scope="module")
def note_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    path = tmp_path_factory.mktemp("surrogates") / "tasks.sqlite3"
    with running_agent({**FAST_TIMERS, **NOTE_KIND, "AGENT_SQLITE_PATH": str(path)}) as agent:
        yield agent


def _post(agent: AgentProcess, body: bytes, session: str) -> Reply:
    headers = {"Content-Type": "application/json", SESSION_HEADER: session}
    return send(agent.url, "POST", "/invocations", body, headers=headers)


START_NOTE = b'{"action": "start_task", "kind": "note", "input": {"text": "%s"}}'
START_SLEEP = b'{"action": "start_background_task", "duration": 1, %s}'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (START_NOTE % b"draft \\ud800", "input.text"),
        (START_NOTE % b"\\udfff", "input.text"),
        (START_NOTE % b"\\udc00\\ud83d", "input.text"),  # a pair in the wrong order is two lone halves
        (b'{"action": "start_task", "kind": "note", "input": {"text": "x", "\\ud800": 1}}', "input"),
        (b'{"action": "start_task", "kind": "no\\ud800te", "input": {}}', "kind"),
        (START_SLEEP % b'"client_token": "token-\\ud800"', "client_token"),
        (START_SLEEP % b'"callback": {"task_token": "\\ud800"}', "callback.task_token"),
        (b'{"action": "list_tasks", "cursor": "\\ud800"}', "cursor"),
        (b'{"prompt": "hello \\ud800"}', "prompt"),
    ],
    ids=[
        "kind input",
        "low half",
        "reversed pair",
        "key",
        "kind",
        "client_token",
        "task_token",
        "cursor",
        "prompt",
    ],
)
def test_a_lone_surrogate_is_an_invalid_field_naming_it(
    note_agent: AgentProcess, body: bytes, field: str
) -> None:
    session = new_session()
    reply = _post(note_agent, body, session)
    assert (reply.status, reply.error_code) == (200, "InvalidField"), reply.body[:500]
    assert reply.error_message.startswith(f"{field}: "), reply.error_message
    assert "surrogate" in reply.error_message
    assert not reply.leaks_internals()
    # Nothing was started, and the agent keeps serving.
    assert note_agent.ping()["status"] == "Healthy"
    listing = _post(note_agent, b'{"action": "list_tasks"}', session)
    assert (listing.status, listing.json["tasks"]) == (200, [])


def test_a_surrogate_pair_is_a_character_like_any_other(note_agent: AgentProcess) -> None:
    session = new_session()
    started = _post(note_agent, START_NOTE % b"ship it \\ud83d\\ude80", session)
    assert (started.status, started.json.get("status")) == (200, "RUNNING"), started.body
    get = (
        b'{"action": "get_task_result", "task_id": "%s", "wait_seconds": 10}'
        % started.json["task_id"].encode()
    )

    def finished() -> Reply | None:
        reply = _post(note_agent, get, session)
        return reply if reply.json.get("status") == "COMPLETED" else None

    assert eventually(finished, timeout=20).json["result"] == "ship it \N{ROCKET}"
