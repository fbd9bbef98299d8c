"""One microVM's agent process: spawned on a free port with its own empty disk, then destroyed.

A watchdog (:mod:`emulator.watchdog`) destroys it too should the emulator die first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from agentcore_async.contract import EnvVar
from emulator.config import EmulatorConfig
from emulator.watchdog import Watchdog

SQLITE_FILE: Final = "tasks.sqlite3"
PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
EXIT_POLL_SECONDS: Final = 0.05


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def agent_environment(
    config: EmulatorConfig, *, port: int, disk: Path, base: Mapping[str, str]
) -> dict[str, str]:
    """The environment of one agent process.

    The SQLite store goes to the shared ``store_dir`` when one is configured (results outlive
    the microVM), else onto the microVM's own disk (lost with it). A store the user chose in
    the environment is left alone.
    """
    env = dict(base)
    env[EnvVar.PORT] = str(port)
    env[EnvVar.HOST] = "127.0.0.1"
    # The agent knows its lifetime (for resumable work and duration limits), fast timers included.
    env[EnvVar.MAX_LIFETIME_SECONDS] = f"{config.lifecycle.max_lifetime:g}"
    env[EnvVar.IDLE_TIMEOUT_SECONDS] = f"{config.lifecycle.idle_timeout:g}"
    if config.jwt is not None:  # as the stack sets it on a JWT runtime: tasks belong to callers
        env[EnvVar.AUTH] = "jwt"
    if not env.get(EnvVar.TABLE_NAME):  # a table name alone selects DynamoDB (see agent.settings)
        env.setdefault(EnvVar.STORE_BACKEND, "sqlite")
    if env.get(EnvVar.STORE_BACKEND) == "sqlite" and EnvVar.SQLITE_PATH not in env:
        store = config.store_dir if config.store_dir is not None else disk
        env[EnvVar.SQLITE_PATH] = str((store / SQLITE_FILE).resolve())
    env["TMPDIR"] = str(disk)
    # The agent runs inside its empty disk directory: from exactly what a synthesized image holds,
    # or from this checkout.
    if config.agent_path:
        env["PYTHONPATH"] = os.pathsep.join(config.agent_path)
    else:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), base.get("PYTHONPATH", "")) if p)
    if config.agent_path:  # as the synthesized runtime sets it, whatever this environment says
        env[EnvVar.EXTRA_KINDS] = ",".join(config.extra_kinds)
    return env


@dataclass
class AgentProcess:
    """A running agent: its process group, port and disk, and the watchdog that outlives the emulator."""

    popen: subprocess.Popen[bytes]
    port: int
    disk: Path
    watchdog: Watchdog

    @classmethod
    def spawn(cls, config: EmulatorConfig, *, host: str = "127.0.0.1") -> AgentProcess:
        """Start the agent command on a free port in a fresh temporary directory."""
        disk = Path(tempfile.mkdtemp(prefix="microvm-"))
        port = free_port(host)
        output = subprocess.DEVNULL if config.agent_output == "quiet" else None
        try:
            popen = subprocess.Popen(
                list(config.agent_command),
                cwd=disk,
                env=agent_environment(config, port=port, disk=disk, base=os.environ),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        except OSError:
            shutil.rmtree(disk, ignore_errors=True)
            raise
        try:
            watchdog = Watchdog.watch(popen.pid, disk)
        except OSError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait()
            shutil.rmtree(disk, ignore_errors=True)
            raise
        return cls(popen=popen, port=port, disk=disk, watchdog=watchdog)

    @property
    def pid(self) -> int:
        """The agent's process id."""
        return self.popen.pid

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.popen.poll() is None

    async def destroy(self, grace: float) -> None:
        """SIGTERM, up to ``grace`` seconds, SIGKILL; then delete the disk and dismiss the watchdog.

        Waits on the event loop, not in a worker thread, so microVMs that take their whole
        grace to shut down do not hold up the threads that start new ones.
        """
        self._signal(signal.SIGTERM)
        if not await self._exited_within(grace):
            self._signal(signal.SIGKILL)
            await self._exited_within(None)
        # Children the agent left behind share its process group.
        self._signal(signal.SIGKILL)
        await asyncio.to_thread(shutil.rmtree, self.disk, ignore_errors=True)
        await self.watchdog.release()

    async def _exited_within(self, seconds: float | None) -> bool:
        deadline = None if seconds is None else time.monotonic() + seconds
        while self.popen.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            await asyncio.sleep(EXIT_POLL_SECONDS)
        return True

    def _signal(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)
