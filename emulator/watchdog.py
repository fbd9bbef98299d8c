"""A microVM's watchdog: when the emulator is gone, even SIGKILLed, its agent dies and its disk goes.

A parent-death signal would reach only the agent's own process (not what it started) and fires
when the *thread* that forked it exits, not the emulator. Instead a ``sh`` in its own session
reads a pipe whose only writer is the emulator. The kernel closes that end however the emulator
ends, so the read returns, and the watchdog kills the agent's process group and deletes its
disk. Normally the emulator closes the pipe itself once it has destroyed the microVM, which
leaves the watchdog nothing to do but exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SCRIPT: Final = 'read -r _; kill -s KILL -- "-$1" 2>/dev/null; rm -rf -- "$2"'
"""``$1`` the agent's process group, ``$2`` its disk. ``read`` returns at end of file."""
EXIT_POLL_SECONDS: Final = 0.02


@dataclass
class Watchdog:
    """The watchdog process and the emulator's end of its pipe."""

    popen: subprocess.Popen[bytes]
    lifeline: int | None

    @classmethod
    def watch(cls, process_group: int, disk: Path) -> Watchdog:
        """Start watching; the pipe's write end stays in this process only (it is not inheritable)."""
        read_end, write_end = os.pipe()
        try:
            popen = subprocess.Popen(
                ["/bin/sh", "-c", SCRIPT, "microvm-watchdog", str(process_group), str(disk)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # no Ctrl+C or group kill aimed at the emulator reaches it
            )
        except OSError:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        return cls(popen=popen, lifeline=write_end)

    async def release(self) -> None:
        """Close the pipe once the microVM is destroyed, and reap the watchdog."""
        if self.lifeline is not None:
            with contextlib.suppress(OSError):
                os.close(self.lifeline)
            self.lifeline = None
        while self.popen.poll() is None:
            await asyncio.sleep(EXIT_POLL_SECONDS)
