"""The demo work from the seed: wait ``duration`` seconds, then produce a result of a given size."""

from __future__ import annotations

import hashlib
import uuid

FILLER = b"0123456789abcdef"


def result_text(duration: float, result_bytes: int | None) -> str:
    """The seed's message, padded (or cut) to exactly ``result_bytes`` bytes when given."""
    message = f"Task completed after {duration:g}s"
    if result_bytes is None:
        return message
    head = (message + "\n").encode()[:result_bytes]
    rest = result_bytes - len(head)
    body = head + FILLER * (rest // len(FILLER)) + FILLER[: rest % len(FILLER)]
    return body.decode("ascii")


def owner_hash(owner: str) -> str:
    """A fixed-length stand-in for a caller's identity in keys (identities may hold any character)."""
    return hashlib.sha256(owner.encode()).hexdigest()


def task_id_for_token(session_id: str, client_token: str, owner: str | None = None) -> str:
    """A uuid4-shaped id derived from (session, owner, token), so a retried start finds the same
    task and the same token of another caller names another task. Without an owner (IAM auth) the
    id is the one (session, token) always gave."""
    seed = f"{session_id}\0{client_token}" + ("" if owner is None else f"\0{owner_hash(owner)}")
    digest = bytearray(hashlib.sha256(seed.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))
