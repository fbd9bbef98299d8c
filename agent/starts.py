"""What a start request becomes before anything is stored: its checks against this microVM's
limits, and the new record (a client token's retry must ask for exactly the same task)."""

from __future__ import annotations

import uuid
from typing import Any

from agent import lifecycle
from agent.errors import invalid_field
from agent.payloads import StartTask
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings
from agent.work import task_id_for_token
from agentcore_async.kinds import InputProblem, StartLimits, TaskKind


def check_start(
    kind: TaskKind[Any],
    task_input: Any,
    request: StartTask,
    settings: Settings,
    *,
    remaining_seconds: float,
    has_ephemeral: bool,
) -> None:
    """Raise ``InvalidInput`` naming the field for a start this agent cannot run: an ephemeral
    task without Redis, or work longer than its kind can get (every attempt's lifetime for a
    resumable kind, what is left of this microVM's for another)."""
    if request.retention == "ephemeral" and not has_ephemeral:
        raise invalid_field("retention", "'ephemeral' needs a Redis store, which is not configured")
    if kind.check is None:
        return
    if kind.resumable:
        budget = settings.resumable_seconds
        over = (
            f"exceeds what {settings.max_attempts} microVM lifetimes of {settings.max_duration_seconds:g}s"
            f" can run ({budget:.0f}s)"
        )
    else:
        budget = remaining_seconds
        over = f"exceeds the remaining lifetime of this microVM ({budget:.0f}s)"
    limits = StartLimits(max_seconds=budget, over_time=over, max_result_bytes=settings.max_result_bytes)
    try:
        kind.check(task_input, limits)
    except InputProblem as problem:
        raise invalid_field(request.input_prefix + problem.field, problem.message) from None


def new_record(
    session_id: str,
    request: StartTask,
    kind: TaskKind[Any],
    task_input: Any,
    *,
    owner: str | None,
    start_id: str,
    now: float,
    settings: Settings,
) -> TaskRecord:
    """The RUNNING record of a new task, with the ``start_id`` unique to this call; a client token
    names the task (per session and owner), so its retries find the same record."""
    task_id = (
        task_id_for_token(session_id, request.client_token, owner)
        if request.client_token
        else str(uuid.uuid4())
    )
    return TaskRecord(
        session_id=session_id,
        task_id=task_id,
        status=TaskStatus.RUNNING,
        kind=kind.name,
        input_json=task_input.model_dump_json(),
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
        expires_at=lifecycle.running_expiry(now, request.retention, settings),
        retention=request.retention,
        client_token=request.client_token,
        owner=owner,
        start_id=start_id,
        callback_token=request.callback.task_token if request.callback is not None else None,
    )


def same_task(stored: TaskRecord, record: TaskRecord) -> bool:
    """Whether ``stored`` (found under a client token) is the task ``record`` asks for."""
    fields = ("kind", "input_json", "retention", "owner", "callback_token")
    return all(getattr(stored, name) == getattr(record, name) for name in fields)
