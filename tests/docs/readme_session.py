"""Run the README's snippets in order, in a checkout-like directory, and report what each did.

``python -m tests.docs.readme_session WORKDIR REPORT`` runs inside a network namespace of its own
(see ``test_readme_snippets.py``), so the fixed ports the README names (8080, 8090) are free. It
writes a JSON list of outcomes to REPORT and stops every server it started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from tests.docs.readme import Snippet, commands, snippets

STAMPS: Final = (
    ".venv/.deps-installed",
    "node_modules/.deps-installed",
    ".venv/tools/checkov/.deps-installed",
)
"""What ``make bootstrap`` creates; assumed up to date, so a recipe never installs anything."""
RUN_TIMEOUT: Final = 180.0
SERVER_TIMEOUT: Final = 120.0
OUTPUT_CHARS: Final = 4000
AGENT_REFUSAL: Final = re.compile(r'\{"error":\s*\{"code"')
"""The agent's error answer, printed as it came (``curl``)."""


@dataclass
class Outcome:
    """What one snippet did."""

    name: str
    mode: str
    ok: bool
    detail: str


def loopback_up() -> None:
    """A new network namespace starts with ``lo`` down: bring it up (SIOCGIFFLAGS/SIOCSIFFLAGS)."""
    get_flags, set_flags, up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, get_flags, request))[1]
        fcntl.ioctl(sock, set_flags, struct.pack("16sH22x", b"lo", flags | up))


def make_recipe(line: str, workdir: Path) -> str:
    """The shell commands ``make ...`` would run once the tools are installed."""
    args = shlex.split(line)[1:]
    assumed = [flag for stamp in STAMPS for flag in ("-o", stamp)]
    done = subprocess.run(
        ["make", "-n", *assumed, *args], cwd=workdir, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"`{line}` is not a valid make command: {done.stderr.strip()}")
    for word in ("npm ci", "pip install"):
        if word in done.stdout:
            raise RuntimeError(f"`{line}` would install tools ({word}); the snippet test never does")
    return done.stdout


def _tail(text: str) -> str:
    return text[-OUTPUT_CHARS:]


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


class Session:
    """Runs snippets one after another; servers stay up until :meth:`close`."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.servers: list[tuple[subprocess.Popen[bytes], Path]] = []

    def run(self, snippet: Snippet) -> Outcome:
        """Carry out one snippet as its mode says."""
        try:
            if snippet.mode == "not-run":
                return Outcome(snippet.name, snippet.mode, True, snippet.note)
            if snippet.mode == "dry-run":
                for line in commands(snippet):
                    make_recipe(line, self.workdir)
                return Outcome(snippet.name, snippet.mode, True, "")
            if snippet.mode == "server":
                return self._server(snippet)
            if snippet.mode == "python":
                return self._python(snippet)
            return self._bash(snippet)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            return Outcome(snippet.name, snippet.mode, False, str(error))

    def _bash(self, snippet: Snippet) -> Outcome:
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", snippet.text],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        detail = f"exit {done.returncode}\nstdout:\n{_tail(done.stdout)}\nstderr:\n{_tail(done.stderr)}"
        # The agent refuses in a 200 answer (AgentCore drops non-2xx bodies): curl exits 0 on it.
        refused = AGENT_REFUSAL.search(done.stdout) is not None
        return Outcome(snippet.name, snippet.mode, done.returncode == 0 and not refused, detail)

    def _python(self, snippet: Snippet) -> Outcome:
        program = self.workdir / f"readme_{snippet.line}.py"
        program.write_text(snippet.text, encoding="utf-8")
        done = subprocess.run(
            [".venv/bin/python", program.name],
            cwd=self.workdir,
            env={**self.env, **quick_start_exports(self.workdir / "README.md")},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        detail = f"exit {done.returncode}\nstdout:\n{_tail(done.stdout)}\nstderr:\n{_tail(done.stderr)}"
        return Outcome(snippet.name, snippet.mode, done.returncode == 0, detail)

    def _server(self, snippet: Snippet) -> Outcome:
        script = "\n".join(
            make_recipe(line, self.workdir) if line.startswith("make ") else line
            for line in commands(snippet)
        )
        log = Path(tempfile.mkstemp(prefix="readme-server-", suffix=".log")[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {script.strip()}" if "\n" not in script.strip() else script],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append((process, log))
        assert snippet.port is not None
        deadline = time.monotonic() + SERVER_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _port_open(snippet.port):
                return Outcome(snippet.name, snippet.mode, True, f"listening on {snippet.port}")
            time.sleep(0.1)
        output = log.read_text(errors="replace")
        return Outcome(
            snippet.name, snippet.mode, False, f"nothing listened on {snippet.port}:\n{_tail(output)}"
        )

    def close(self) -> None:
        """Stop every server (and what it started) and remove their logs."""
        for process, log in reversed(self.servers):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.unlink(missing_ok=True)


def quick_start_exports(readme: Path) -> dict[str, str]:
    """``export NAME=VALUE`` lines of the first block that runs as written: the quick start's target."""
    first = next(snippet for snippet in snippets(readme) if snippet.mode == "run")
    exports = {}
    for line in commands(first):
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            exports[name] = value
    return exports


def main() -> int:
    """Run every snippet of WORKDIR/README.md; write the outcomes to REPORT."""
    workdir, report = Path(sys.argv[1]), Path(sys.argv[2])
    loopback_up()
    session = Session(workdir, dict(os.environ))
    outcomes: list[Outcome] = []
    try:
        for snippet in snippets(workdir / "README.md"):
            outcomes.append(session.run(snippet))
    finally:
        session.close()
        report.write_text(json.dumps([asdict(outcome) for outcome in outcomes]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
