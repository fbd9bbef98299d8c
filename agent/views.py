"""What a caller is shown of a task: its summary (with this process's fresher progress) and, for
``get``, its result (inline, read from the bucket, or a presigned URL) and error."""

from __future__ import annotations

import json
from typing import Any

from agent.attempts import AttemptRunner
from agent.errors import ApiError, result_expired
from agent.gateway import StoreGateway, if_missing
from agent.records import TaskRecord, TaskStatus
from agent.settings import Settings


class TaskViews:
    """Renders records as the answers of ``get``, ``list`` and ``cancel``."""

    def __init__(self, settings: Settings, gateway: StoreGateway, runner: AttemptRunner) -> None:
        self._settings = settings
        self._gateway = gateway
        self._runner = runner

    def summary(self, record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
        """The task's line in a listing, as ``status``."""
        running = self._runner.running(record.session_id, record.task_id)
        live = running.record if running is not None else record  # fresher progress than the store
        summary: dict[str, Any] = {
            "task_id": record.task_id,
            "kind": record.kind,
            "status": status.value,
            "progress": live.progress,
            "attempt": record.attempt,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "retention": record.retention,
        }
        if live.message is not None:
            summary["message"] = live.message
        return summary

    async def view(self, record: TaskRecord, status: TaskStatus) -> dict[str, Any]:
        """The task's full answer, as ``status``: its summary, result and error."""
        view = self.summary(record, status)
        if record.result is not None:
            view["result"] = _decode_result(record.result, record.result_format)
        elif record.result_key is not None and (blobs := self._gateway.blobs) is not None:
            size = record.result_size or 0
            if size > self._settings.presign_threshold_bytes:
                expiry = self._settings.presign_expiry_seconds
                view["result_url"] = await self._gateway.io(
                    "presign", blobs.presign, record.result_key, expiry
                )
            else:
                gone = if_missing(result_expired(record.task_id))
                data = await self._gateway.get_blob("get result", record.result_key, gone, hold=False)
                view["result"] = _decode_result(data.decode("utf-8"), record.result_format)
        if record.error_code is not None:
            view["error"] = {"code": record.error_code, "message": record.error_message or ""}
        if (unknown := self.unknown_kind(record)) is not None:
            view["error"] = unknown.body()["error"]
        return view

    def unknown_kind(self, record: TaskRecord) -> ApiError | None:
        """Why this image leaves a SUSPENDED record alone: its kind is not registered here."""
        if record.status is not TaskStatus.SUSPENDED or record.kind in self._runner.kinds:
            return None
        return ApiError("UnknownKind", f"kind {record.kind[:64]!r} is not registered in this version")


def _decode_result(text: str, result_format: str) -> Any:
    return json.loads(text) if result_format == "json" else text
