"""Rows of the session table, computed on a fake monotonic clock."""

from __future__ import annotations

from emulator.microvm import MicroVM, VmState
from emulator.timers import EndReason

ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local_agent-emulator0"
T0 = 2_000_000.0
"""A monotonic reading: only differences between such readings mean anything."""
UNIX_START = 1_795_000_000.0


def test_a_running_microvm_reports_age_idle_and_last_ping() -> None:
    vm = MicroVM(runtime_arn=ARN, session_id="s" * 40, started_at=T0, started_at_unix=UNIX_START)
    vm.state = VmState.RUNNING
    vm.last_invocation_at = T0 + 5
    vm.ping_status = "Healthy"
    vm.status_changed_at = T0 + 8
    vm.last_ping_at = T0 + 11
    row = vm.row(T0 + 12)
    assert row["state"] == "running"
    assert row["age_seconds"] == 12.0
    assert row["idle_seconds"] == 4.0  # since the last status change, the latest activity
    assert row["last_ping_seconds_ago"] == 1.0
    assert row["end_reason"] is None
    assert row["started_at"] == UNIX_START  # the wall-clock time, for people to read


def test_a_busy_microvm_is_never_idle() -> None:
    vm = MicroVM(runtime_arn=ARN, session_id="s" * 40, started_at=T0, started_at_unix=UNIX_START)
    vm.state = VmState.RUNNING
    vm.ping_status = "HealthyBusy"
    vm.pinged_update_time = True
    assert vm.row(T0 + 500)["idle_seconds"] == 0.0


def test_healthy_busy_without_time_of_last_update_idles() -> None:
    vm = MicroVM(runtime_arn=ARN, session_id="s" * 40, started_at=T0, started_at_unix=UNIX_START)
    vm.state = VmState.RUNNING
    vm.ping_status = "HealthyBusy"
    assert not vm.busy
    assert vm.row(T0 + 500)["idle_seconds"] == 500.0


def test_an_ended_microvm_keeps_its_age_and_reason() -> None:
    vm = MicroVM(runtime_arn=ARN, session_id="s" * 40, started_at=T0, started_at_unix=UNIX_START)
    vm.state = VmState.ENDED
    vm.end_reason = EndReason.MAX_LIFETIME
    vm.ended_at = T0 + 30
    vm.ended_at_unix = UNIX_START + 30
    row = vm.row(T0 + 100)
    assert row["age_seconds"] == 30.0
    assert row["ended_at"] == UNIX_START + 30
    assert row["idle_seconds"] is None
    assert row["end_reason"] == "max_lifetime"
    assert row["pid"] is None


def test_microvms_are_numbered_in_creation_order() -> None:
    first = MicroVM(runtime_arn=ARN, session_id="a" * 40, started_at=T0, started_at_unix=UNIX_START)
    second = MicroVM(runtime_arn=ARN, session_id="a" * 40, started_at=T0, started_at_unix=UNIX_START)
    assert second.number == first.number + 1
    assert first.key == (ARN, "a" * 40)
