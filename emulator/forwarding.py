"""Forward one invocation to its session's microVM, the way AgentCore's data plane does.

A microVM whose agent is gone is replaced on the call that finds out: at acquire time when its
process has exited, and by one retry on a fresh microVM when the connection is refused (the
request never reached the agent, so sending it again cannot run anything twice). Once a session
is stopped, its calls in flight end at once, streamed answers included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TypeVar

import httpx

from emulator.errors import ServiceError
from emulator.microvm import MicroVM
from emulator.runtime import Runtime

log = logging.getLogger("emulator")

T = TypeVar("T")


class SessionStopped(Exception):
    """The session was stopped while a call was waiting on its microVM."""


class _Refused(Exception):
    """The microVM refused the connection: the request was not delivered."""


async def until_stopped(
    vm: MicroVM, work: Awaitable[T], *, discard: Callable[[T], Awaitable[None]] | None = None
) -> T:
    """The result of ``work``, or :class:`SessionStopped` as soon as ``vm``'s session is stopped.

    ``discard`` releases a result that arrives too late to be used.
    """
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(vm.stopped.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        stopped.cancel()
    if task.done() and not vm.stopped.is_set():
        return task.result()
    task.cancel()  # the stop wins, even over a result that came in the same moment
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is None and discard is not None:
        await discard(task.result())
    raise SessionStopped


async def deliver(
    runtime: Runtime, arn: str, session_id: str, headers: Mapping[str, str], payload: bytes
) -> tuple[MicroVM, httpx.Response]:
    """Send the invocation; the caller must ``runtime.release`` the microVM when done with it."""
    for attempt in (1, 2):
        vm = await runtime.acquire(arn, session_id)
        try:
            return vm, await _send(runtime, vm, headers, payload)
        except _Refused:
            runtime.release(vm)
            runtime.retire(vm)
            if attempt == 2:
                break
            log.info("session=%s microvm=%d refused the call; retrying on a new one", session_id, vm.number)
        except BaseException:
            runtime.release(vm)
            raise
    raise ServiceError("RuntimeClientError", "The runtime did not answer the invocation")


async def read_error_body(runtime: Runtime, vm: MicroVM, upstream: httpx.Response) -> bytes:
    """The whole body of a non-2xx answer (only logged: AgentCore does not relay it)."""
    try:
        return await until_stopped(vm, upstream.aread())
    except (httpx.HTTPError, SessionStopped):
        _retire_if_dead(runtime, vm)
        return b""


async def relay(vm: MicroVM, upstream: httpx.Response) -> AsyncIterator[bytes]:
    """The agent's answer chunk by chunk, until it ends, breaks or the session is stopped."""
    chunks = upstream.aiter_raw()
    while True:
        try:
            chunk = await until_stopped(vm, anext(chunks))
        except StopAsyncIteration:
            return
        except SessionStopped:
            log.info("session=%s microvm=%d stopped: answer cut off", vm.session_id, vm.number)
            return
        except httpx.HTTPError:
            log.warning("session=%s microvm=%d answer cut off (terminated?)", vm.session_id, vm.number)
            return
        yield chunk


async def _send(runtime: Runtime, vm: MicroVM, headers: Mapping[str, str], payload: bytes) -> httpx.Response:
    assert vm.process is not None
    outgoing = runtime.http.build_request(
        "POST", f"http://127.0.0.1:{vm.process.port}/invocations", content=payload, headers=dict(headers)
    )
    try:
        return await until_stopped(vm, runtime.http.send(outgoing, stream=True), discard=_close)
    except httpx.ConnectError:
        log.warning("session=%s microvm=%d refused the connection", vm.session_id, vm.number)
        raise _Refused from None
    except httpx.HTTPError as error:
        # The request may have reached the agent: never sent twice.
        log.warning(
            "session=%s microvm=%d did not answer the invocation (%s)",
            vm.session_id,
            vm.number,
            type(error).__name__,
        )
        _retire_if_dead(runtime, vm)
        raise ServiceError("RuntimeClientError", "The runtime did not answer the invocation") from None
    except SessionStopped:
        raise ServiceError("RuntimeClientError", "The runtime session was stopped") from None


async def _close(response: httpx.Response) -> None:
    await response.aclose()


def _retire_if_dead(runtime: Runtime, vm: MicroVM) -> None:
    """Replace a microVM whose process has exited on the next call, not a timer tick later."""
    if vm.process is not None and not vm.process.alive():
        runtime.retire(vm)
