"""Agent processes as microVMs: one current microVM per session, booted on a session's first call
after its last one ended, retired (SIGTERM, then SIGKILL after AgentCore's grace) at its maximum
lifetime, and exposed to the faults of :mod:`nemesis.faults`."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcore_async.contract import EnvVar
from bench.processes import free_port
from nemesis.history import Call, History, Shutdown

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
AWS_STOP_GRACE_SECONDS = 15.0
"""AgentCore's time between SIGTERM and SIGKILL."""
BOOT_TIMEOUT_SECONDS = 60.0
CONCURRENT_BOOTS = 2
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class BootError(RuntimeError):
    """An agent process did not come up."""


@dataclass(eq=False)
class MicroVM:
    """One agent process serving one session."""

    number: int
    session: str
    process: subprocess.Popen[bytes]
    port: int
    disk: Path
    booted_at: float
    frozen: bool = False
    retiring: bool = False
    rolled_back: bool = False
    """Runs an image without the extra kinds."""

    def alive(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the agent's process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


@dataclass
class Cluster:
    """The microVMs of every session, and the calls routed to them."""

    env: Mapping[str, str]
    workdir: Path
    history: History
    clock: Callable[[], float]
    lifetime: float
    agent_module: str = "agent"
    """What each microVM runs (``python -m``); another module only to show the checker can fail."""
    _current: dict[str, MicroVM] = field(default_factory=dict)
    _all: list[MicroVM] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _boots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(CONCURRENT_BOOTS))
    _numbers: Any = field(default_factory=lambda: itertools.count(1))
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _closed: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _without_kinds: set[str] = field(default_factory=set)
    """Sessions whose next microVM runs an image that registers none of the extra kinds."""

    def start(self) -> None:
        """Begin retiring microVMs at their maximum lifetime."""
        self._spawn(self._supervise, "nemesis-lifetimes")

    # -- calls ------------------------------------------------------------------------------

    def call(self, client: str, session: str, request: dict[str, Any], timeout: float) -> Call:
        """POST ``request`` to the session's microVM (booting one if it has none) and record it."""
        started = self.clock()
        seq = next(self._seq)
        try:
            vm = self._vm_for(session)
        except BootError as exc:
            entry = Call(seq, client, session, request, started, self.clock(), transport_error=str(exc))
            self.history.add(entry)
            return entry
        data = json.dumps(request).encode()
        http = urllib.request.Request(f"http://127.0.0.1:{vm.port}/invocations", data=data, method="POST")
        http.add_header("Content-Type", "application/json")
        http.add_header(SESSION_HEADER, session)
        status: int | None = None
        body = b""
        error: str | None = None
        try:
            with urllib.request.urlopen(http, timeout=timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                status, body = exc.code, exc.read()
        except (OSError, urllib.error.URLError) as exc:
            error = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"[:120]
        answer, raw = _parse(body) if status is not None else (None, None)
        entry = Call(
            seq, client, session, request, started, self.clock(), status, answer, raw, error, vm.number
        )
        self.history.add(entry)
        return entry

    def _vm_for(self, session: str) -> MicroVM:
        with self._lock:
            lock = self._session_locks.setdefault(session, threading.Lock())
        with lock:
            vm = self._current.get(session)
            if vm is not None and vm.alive() and not vm.retiring and not vm.frozen:
                return vm
            if self._closed.is_set():
                raise BootError("the run is over")
            vm = self._boot(session)
            self._current[session] = vm
            return vm

    def _boot(self, session: str) -> MicroVM:
        with self._boots:
            number = next(self._numbers)
            disk = Path(tempfile.mkdtemp(prefix=f"vm{number}-", dir=self.workdir))
            port = free_port()
            env = {
                **self.env,
                **({EnvVar.EXTRA_KINDS: ""} if self._rolled_back(session) else {}),
                EnvVar.PORT: str(port),
                EnvVar.HOST: "127.0.0.1",
                EnvVar.MAX_LIFETIME_SECONDS: f"{self.lifetime:g}",
                "TMPDIR": str(disk),
                "PYTHONPATH": str(PROJECT_ROOT),
                "PYTHONUNBUFFERED": "1",
            }
            with (self.workdir / f"vm{number}.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", self.agent_module],
                    cwd=disk,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            vm = MicroVM(number, session, process, port, disk, booted_at=self.clock())
            vm.rolled_back = EnvVar.EXTRA_KINDS in env and not env[EnvVar.EXTRA_KINDS]
            with self._lock:
                self._all.append(vm)
            deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                if not vm.alive():
                    raise BootError(f"vm{number} exited with {process.returncode} at boot")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                        return vm
                except (OSError, urllib.error.URLError):
                    time.sleep(0.05)
            vm.signal(signal.SIGKILL)
            raise BootError(f"vm{number} did not answer /ping in {BOOT_TIMEOUT_SECONDS:g}s")

    # -- faults -----------------------------------------------------------------------------

    def current(self, session: str) -> MicroVM | None:
        """The session's microVM, if it has a live one."""
        vm = self._current.get(session)
        return vm if vm is not None and vm.alive() and not vm.retiring and not vm.frozen else None

    def kill(self, vm: MicroVM) -> None:
        """SIGKILL: the microVM ends with no warning."""
        vm.signal(signal.SIGKILL)
        vm.process.wait()

    def freeze(self, vm: MicroVM, seconds: float) -> None:
        """SIGSTOP for ``seconds``: the session gets a new microVM meanwhile (as after a failed
        health check); the frozen one wakes later and runs on until its lifetime ends."""
        vm.frozen = True
        vm.signal(signal.SIGSTOP)

        def thaw() -> None:
            self._closed.wait(seconds)
            vm.signal(signal.SIGCONT)

        self._spawn(thaw, f"nemesis-thaw-vm{vm.number}")

    def roll_back(self, vm: MicroVM) -> None:
        """End ``vm`` and serve its session's next microVM from an image without the extra kinds
        (a rollback to a version that does not register them)."""
        self._without_kinds.add(vm.session)
        self.retire(vm)

    def _rolled_back(self, session: str) -> bool:
        with self._lock:
            if session in self._without_kinds:
                self._without_kinds.discard(session)
                return True
            return False

    def end_rollbacks(self) -> None:
        """The rollout is over: no session's next microVM lacks the kinds, and those that do end."""
        with self._lock:
            self._without_kinds.clear()
            vms = [vm for vm in self._all if vm.rolled_back and vm.alive()]
        for vm in vms:
            self.retire(vm)

    def retire(self, vm: MicroVM) -> None:
        """SIGTERM now, SIGKILL after AgentCore's grace; records how long the agent took."""
        if vm.retiring:
            return
        vm.retiring = True
        self._spawn(lambda: self._stop(vm), f"nemesis-stop-vm{vm.number}")

    def _stop(self, vm: MicroVM) -> None:
        signalled = self.clock()
        vm.signal(signal.SIGCONT)  # a frozen process would never see its SIGTERM
        vm.signal(signal.SIGTERM)
        try:
            vm.process.wait(timeout=AWS_STOP_GRACE_SECONDS)
            took: float | None = self.clock() - signalled
        except subprocess.TimeoutExpired:
            took = None
            vm.signal(signal.SIGKILL)
            vm.process.wait()
        self.history.add(Shutdown(vm.number, signalled, took))
        shutil.rmtree(vm.disk, ignore_errors=True)

    def _supervise(self) -> None:
        while not self._closed.wait(0.2):
            now = self.clock()
            with self._lock:
                due = [vm for vm in self._all if vm.alive() and not vm.retiring]
            for vm in due:
                if now - vm.booted_at >= self.lifetime:
                    self.retire(vm)

    # -- end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every process this cluster started (and wait for the stops under way)."""
        self._closed.set()
        with self._lock:
            vms = list(self._all)
        for vm in vms:
            vm.signal(signal.SIGCONT)
            vm.signal(signal.SIGKILL)
        for vm in vms:
            with contextlib.suppress(subprocess.TimeoutExpired):
                vm.process.wait(timeout=10)
        for thread in self._threads:
            thread.join(timeout=AWS_STOP_GRACE_SECONDS + 5)
        for vm in vms:
            shutil.rmtree(vm.disk, ignore_errors=True)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()


def _parse(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(body)
    except ValueError:
        return None, body[:400].decode("utf-8", "replace")
    return (value, None) if isinstance(value, dict) else (None, body[:400].decode("utf-8", "replace"))
