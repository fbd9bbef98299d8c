"""The emulated AgentCore Runtime: sessions mapped to microVMs, pings and lifecycle timers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from emulator.config import EmulatorConfig
from emulator.errors import ServiceError
from emulator.microvm import MicroVM, VmState
from emulator.process import AgentProcess
from emulator.timers import EndReason, due_end

log = logging.getLogger("emulator")

Clock = Callable[[], float]
HEALTHY_STATUSES = frozenset({"Healthy", "HealthyBusy"})


class Runtime:
    """Owns every microVM. All state changes happen on one event loop, so no locks are needed."""

    def __init__(
        self, config: EmulatorConfig, *, clock: Clock = time.time, monotonic: Clock = time.monotonic
    ) -> None:
        """Serve ``config``; start with :meth:`start`.

        ``clock`` is the wall clock, read only for the times the session table shows. Every
        duration (age, idle time, both timers, last ping) is measured on ``monotonic``, so a
        jump of the wall clock ends no microVM.
        """
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self._live: dict[tuple[str, str], MicroVM] = {}
        self._ended: deque[MicroVM] = deque(maxlen=config.history_size)
        self._terminations: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._supervisor: asyncio.Task[None] | None = None
        # Start-ups are CPU-bound: all at once, each takes so long that all may miss the start-up timeout.
        self._boot_slots = asyncio.Semaphore(config.max_booting)

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client used to reach agent processes."""
        if self._http is None:
            raise RuntimeError("runtime not started")
        return self._http

    async def start(self) -> None:
        """Start the timer loop."""
        # A new connection per call: a dead agent then always shows as a refused connection (never
        # delivered, so safely retried on a new microVM) rather than as a broken pooled one.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        timeout = httpx.Timeout(connect=5.0, read=None, write=30.0, pool=None)
        self._http = httpx.AsyncClient(limits=limits, timeout=timeout)
        self._supervisor = asyncio.create_task(self._supervise())

    async def close(self) -> None:
        """Stop every microVM (reason ``stopped``) and the timer loop."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for vm in list(self._live.values()):
            self._terminate(vm, EndReason.STOPPED)
        if self._terminations:
            await asyncio.gather(*self._terminations, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    # -- invocations ---------------------------------------------------------------------------

    async def acquire(self, runtime_arn: str, session_id: str) -> MicroVM:
        """The running microVM for this session, started on first use; counts one call in flight.

        A microVM whose process has exited is replaced here, without waiting for a timer tick.
        """
        vm = self._live.get((runtime_arn, session_id))
        if vm is not None and vm.state is VmState.RUNNING and not _process_alive(vm):
            log.warning("session=%s microvm=%d found dead on a call", session_id, vm.number)
            self._terminate(vm, EndReason.UNHEALTHY)
            vm = None
        if vm is None:
            vm = self._boot(runtime_arn, session_id)
        vm.in_flight += 1
        vm.invocations += 1
        vm.last_invocation_at = self._monotonic()
        try:
            assert vm.ready is not None
            await asyncio.shield(vm.ready)
        except BaseException:
            self.release(vm)
            raise
        return vm

    def release(self, vm: MicroVM) -> None:
        """End one call in flight; the idle countdown restarts from now."""
        vm.in_flight = max(0, vm.in_flight - 1)
        vm.last_invocation_at = self._monotonic()

    def retire(self, vm: MicroVM) -> None:
        """Take a microVM that cannot be reached out of service; the next call gets a new one."""
        self._terminate(vm, EndReason.UNHEALTHY)

    def stop_session(self, runtime_arn: str, session_id: str) -> None:
        """StopRuntimeSession: end the session now; its process shuts down in the background.

        AgentCore "instantly terminates the specified session and stops any ongoing streaming
        responses" (the developer guide's runtime-stop-session page): the microVM leaves service
        and its calls in flight end at once; SIGTERM, grace and SIGKILL follow.
        """
        vm = self._live.get((runtime_arn, session_id))
        if vm is None:
            raise ServiceError("ResourceNotFoundException", f"No active runtime session {session_id}")
        self._terminate(vm, EndReason.STOPPED)

    def table(self) -> list[dict[str, Any]]:
        """Every live microVM, then recently ended ones, newest first."""
        now = self._monotonic()
        vms = sorted([*self._live.values(), *self._ended], key=lambda vm: vm.number, reverse=True)
        return [vm.row(now) for vm in vms]

    # -- microVM lifecycle ---------------------------------------------------------------------

    def _boot(self, runtime_arn: str, session_id: str) -> MicroVM:
        vm = MicroVM(
            runtime_arn=runtime_arn,
            session_id=session_id,
            started_at=self._monotonic(),
            started_at_unix=self._clock(),
        )
        vm.ready = asyncio.get_running_loop().create_future()
        self._live[vm.key] = vm
        vm.tasks.append(asyncio.create_task(self._start_process(vm)))
        return vm

    async def _start_process(self, vm: MicroVM) -> None:
        """Wait for a start-up slot (throttled after ``boot_queue_timeout``), then start the agent."""
        try:
            await asyncio.wait_for(self._boot_slots.acquire(), self.config.boot_queue_timeout)
        except TimeoutError:
            self._throttle(vm)
            return
        try:
            vm.state = VmState.STARTING
            await self._boot_process(vm)
        finally:
            self._boot_slots.release()

    def _throttle(self, vm: MicroVM) -> None:
        """No slot in time: the session's calls get AWS's throttling error, and no microVM remains."""
        assert vm.ready is not None
        log.warning(
            "session=%s microvm=%d throttled: no start-up slot within %gs (--max-booting %d)",
            vm.session_id,
            vm.number,
            self.config.boot_queue_timeout,
            self.config.max_booting,
        )
        if self._live.get(vm.key) is vm:
            del self._live[vm.key]
        vm.state = VmState.ENDED
        # AgentCore answers calls over its rate with a 429 ThrottlingException: the developer guide's
        # "AgentCore provided runtime metrics" page (Throttles: "These requests return
        # ThrottlingException with HTTP status code 429"); InvokeAgentRuntime's API reference lists
        # the error. "Rate exceeded" is the message AWS services send with it.
        vm.ready.set_exception(ServiceError("ThrottlingException", "Rate exceeded"))
        vm.ready.exception()  # mark retrieved: callers may all have gone

    async def _boot_process(self, vm: MicroVM) -> None:
        assert vm.ready is not None
        spawning = asyncio.ensure_future(asyncio.to_thread(AgentProcess.spawn, self.config))
        try:
            vm.process = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            # Terminated while the process was being created: do not leave it behind.
            with contextlib.suppress(OSError):
                orphan = await spawning
                await orphan.destroy(self.config.stop_grace)
            raise
        except OSError:
            log.exception("session=%s microvm=%d could not start the agent command", vm.session_id, vm.number)
            self._fail_boot(vm)
            return
        log.info(
            "session=%s microvm=%d started pid=%d port=%d",
            vm.session_id,
            vm.number,
            vm.process.pid,
            vm.process.port,
        )
        deadline = self._monotonic() + self.config.startup_timeout
        while self._monotonic() < deadline and vm.state is VmState.STARTING and vm.process.alive():
            if await self._ping(vm):
                vm.state = VmState.RUNNING
                vm.ready.set_result(None)
                vm.tasks.append(asyncio.create_task(self._ping_loop(vm)))
                return
            await asyncio.sleep(0.05)
        if vm.state is VmState.STARTING:
            log.warning("session=%s microvm=%d never answered /ping", vm.session_id, vm.number)
            self._fail_boot(vm)

    def _fail_boot(self, vm: MicroVM) -> None:
        assert vm.ready is not None
        if not vm.ready.done():
            vm.ready.set_exception(ServiceError("RuntimeClientError", "The runtime failed to start"))
            vm.ready.exception()  # mark retrieved: callers may all have gone
        self._terminate(vm, EndReason.UNHEALTHY)

    async def _ping(self, vm: MicroVM) -> bool:
        """One health check; records status and the agent's ``time_of_last_update``."""
        assert vm.process is not None
        try:
            response = await self.http.get(
                f"http://127.0.0.1:{vm.process.port}/ping", timeout=self.config.ping_timeout
            )
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return False
        status = body.get("status") if isinstance(body, dict) else None
        if response.status_code != 200 or status not in HEALTHY_STATUSES:
            return False
        if status != vm.ping_status:
            log.info("session=%s microvm=%d ping %s", vm.session_id, vm.number, status)
        now = vm.last_ping_at = self._monotonic()
        vm.ping_status = status
        update_time = _update_time(body)
        vm.pinged_update_time = update_time is not None
        if update_time is not None and update_time != vm.update_time:
            # The agent's clock is not ours: only a change of its value counts, as of when we saw it.
            vm.update_time = update_time
            vm.status_changed_at = now
        return True

    async def _ping_loop(self, vm: MicroVM) -> None:
        while vm.state is VmState.RUNNING:
            await asyncio.sleep(self.config.ping_interval)
            if vm.state is not VmState.RUNNING:
                return
            if await self._ping(vm):
                vm.failed_pings = 0
                continue
            vm.failed_pings += 1
            log.warning("session=%s microvm=%d failed ping %d", vm.session_id, vm.number, vm.failed_pings)
            if vm.failed_pings >= self.config.unhealthy_after:
                self._terminate(vm, EndReason.UNHEALTHY)

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick)
            now = self._monotonic()
            for vm in list(self._live.values()):
                if vm.state is not VmState.RUNNING:
                    continue
                reason = due_end(now, self.config.lifecycle, vm.activity())
                if reason is None and not _process_alive(vm):
                    reason = EndReason.UNHEALTHY
                if reason is not None:
                    self._terminate(vm, reason)

    def _terminate(self, vm: MicroVM, reason: EndReason) -> asyncio.Task[None]:
        """Take the microVM out of service now and destroy its process in the background."""
        if vm.termination is not None:
            return vm.termination
        for task in vm.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self._live.get(vm.key) is vm:
            del self._live[vm.key]
        if vm.ready is not None and not vm.ready.done():
            vm.ready.set_exception(ServiceError("RuntimeClientError", "The runtime session was terminated"))
            vm.ready.exception()
        vm.state = VmState.TERMINATING
        vm.end_reason = reason
        if reason is EndReason.STOPPED:
            vm.stopped.set()
        self._ended.append(vm)  # stays in the table while it shuts down
        log.info("session=%s microvm=%d terminating reason=%s", vm.session_id, vm.number, reason)
        task = vm.termination = asyncio.create_task(self._destroy(vm))
        self._terminations.add(task)
        task.add_done_callback(self._terminations.discard)
        return task

    async def _destroy(self, vm: MicroVM) -> None:
        if vm.process is not None:
            await vm.process.destroy(self.config.stop_grace)
        vm.state = VmState.ENDED
        vm.ended_at = self._monotonic()
        vm.ended_at_unix = self._clock()
        log.info(
            "session=%s microvm=%d ended reason=%s age=%.1fs invocations=%d",
            vm.session_id,
            vm.number,
            vm.end_reason,
            vm.ended_at - vm.started_at,
            vm.invocations,
        )


def _process_alive(vm: MicroVM) -> bool:
    """False once the microVM's process has exited (True while it has none yet)."""
    return vm.process is None or vm.process.alive()


def _update_time(body: dict[str, Any]) -> float | None:
    """The ping's ``time_of_last_update`` when it is a finite number, else None."""
    value = body.get("time_of_last_update")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
