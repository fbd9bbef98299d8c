"""The registered kinds: lookup, input validation with the offending path, and their descriptions."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.errors import ApiError, invalid_field
from agentcore_async.kinds import TaskKind


class Kinds:
    """Kinds by name, in registration order."""

    def __init__(self, kinds: Iterable[TaskKind[Any]]) -> None:
        self._kinds: dict[str, TaskKind[Any]] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"two kinds are named {kind.name!r}")
            self._kinds[kind.name] = kind

    @classmethod
    def load(cls, modules: Iterable[str]) -> Kinds:
        """The ``KIND`` of each module, imported by its dotted path."""
        kinds = []
        for name in modules:
            kind = getattr(importlib.import_module(name), "KIND", None)
            if not isinstance(kind, TaskKind):
                raise ValueError(f"module {name} has no KIND = TaskKind(...)")
            kinds.append(kind)
        return cls(kinds)

    def __iter__(self) -> Any:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def get(self, name: str) -> TaskKind[Any]:
        """The kind called ``name``; ``UnknownKind`` (naming the known ones) otherwise."""
        kind = self._kinds.get(name)
        if kind is None:
            known = ", ".join(self._kinds)
            raise ApiError("UnknownKind", f"unknown kind {name[:64]!r}; expected one of: {known}")
        return kind

    def describe(self) -> list[dict[str, Any]]:
        """Each kind with its description, input JSON schema and whether it is resumable."""
        return [
            {
                "name": kind.name,
                "description": kind.description,
                "resumable": kind.resumable,
                "input_schema": kind.input_model.model_json_schema(),
            }
            for kind in self
        ]


def _union_member(part: object) -> bool:
    """pydantic names the union member an error is about inside the path (``items.0.str``)."""
    return isinstance(part, str) and bool(
        re.match(r"^([A-Z]\w*|str|int|float|bool|constrained-\w+|function-.*)$", part)
    )


def _most_specific(errors: list[Any]) -> Any:
    """The error to report. For a value no member of a union accepts, pydantic reports each
    member's complaint; the one that got furthest into the value says what is wrong with it
    (``{"s3_key": "results/x"}`` fails on its key's pattern, not on not being a string)."""
    first = errors[0]
    loc = tuple(first["loc"])
    at = next((i for i, part in enumerate(loc) if _union_member(part)), None)
    if at is None:
        return first
    members = [
        err
        for err in errors
        if tuple(err["loc"][:at]) == loc[:at] and len(err["loc"]) > at and _union_member(err["loc"][at])
    ]
    return max(members, key=lambda err: len(err["loc"]))  # the first of the deepest


def parse_input(kind: TaskKind[Any], raw: Any, prefix: str) -> BaseModel:
    """Validate ``raw`` against the kind's input model; errors name the path (``input.items.3``)."""
    if not isinstance(raw, dict):
        raise invalid_field(prefix.rstrip(".") or "input", "must be a JSON object")
    try:
        parsed: BaseModel = kind.input_model.model_validate(raw)
        return parsed
    except ValidationError as exc:
        err = _most_specific(exc.errors())
        path = prefix + ".".join(str(part) for part in err["loc"] if not _union_member(part))
        if err["type"] == "extra_forbidden":
            raise invalid_field(path, "unknown field") from None
        if err["type"] == "missing":
            raise invalid_field(path, "field required") from None
        raise invalid_field(path or "input", str(err["msg"])) from None
