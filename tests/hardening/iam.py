"""Walk every IAM policy statement of a set of templates, and the reasoned allow-list of wildcards."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tests.hardening.templates import Template

ALLOWLIST_FILE: Final = Path(__file__).with_name("iam_allowlist.toml")
_HASH_SUFFIX: Final = re.compile(r"[0-9A-F]{8}$")
MIN_REASON_CHARS: Final = 40


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def readable_id(logical_id: str) -> str:
    """A logical id without CDK's hash suffix: stable across stages and harmless edits elsewhere."""
    return _HASH_SUFFIX.sub("", logical_id)


def stack_part(template: Template) -> str:
    """``Runtime`` for ``AgentCoreAsync-prod-Runtime``."""
    return template.stack_name.rsplit("-", 1)[-1]


@dataclass(frozen=True)
class Statement:
    """One statement of one policy document in one template."""

    template: Template
    policy: str
    """Logical id of the resource that holds the document."""
    body: dict[str, Any]

    @property
    def allows(self) -> bool:
        """True for Allow statements (Deny statements may use wildcards freely)."""
        return bool(self.body.get("Effect") == "Allow")

    @property
    def actions(self) -> list[str]:
        """The statement's actions."""
        return [str(action) for action in as_list(self.body.get("Action", []))]

    @property
    def resources(self) -> list[Any]:
        """The statement's resources (strings or intrinsic functions)."""
        return as_list(self.body.get("Resource", []))

    @property
    def where(self) -> str:
        """Human-readable location for failure messages."""
        sid = self.body.get("Sid")
        return f"{self.template.stack_name}/{self.policy}" + (f" (Sid {sid})" if sid else "")


def _documents(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = resource.get("Type")
    props = resource.get("Properties", {})
    if kind in (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
    ):
        yield props["PolicyDocument"]
    elif kind == "AWS::IAM::Role":
        for inline in props.get("Policies", []):
            yield inline["PolicyDocument"]
    elif kind == "AWS::ECR::Repository" and "RepositoryPolicyText" in props:
        yield props["RepositoryPolicyText"]
    elif kind == "AWS::KMS::Key":
        yield props["KeyPolicy"]
    elif kind == "AWS::XRay::ResourcePolicy":
        # A JSON string (CDK joins references into it): parsed with references as placeholders.
        yield json.loads(_flatten(props["PolicyDocument"]))
    elif kind == "Custom::XRayResourcePolicy":
        # An SDK call (AwsCustomResource) putting the document: JSON inside the call's JSON.
        yield json.loads(json.loads(_flatten(props["Create"]))["parameters"]["PolicyDocument"])
    elif kind == "AWS::Logs::ResourcePolicy":
        raise AssertionError("log resource policies are JSON strings: extend the IAM walk to parse them")


def statements(templates: list[Template]) -> Iterator[Statement]:
    """Every statement of every permission policy in ``templates``."""
    for template in templates:
        for logical_id, resource in template.resources():
            for document in _documents(resource):
                for body in as_list(document.get("Statement", [])):
                    yield Statement(template, logical_id, body)


def managed_policy_names(templates: list[Template]) -> Iterator[tuple[str, str]]:
    """(where, AWS-managed policy name) for every managed policy attached to a role."""
    for template in templates:
        for logical_id, role in template.resources("AWS::IAM::Role"):
            for arn in role.get("Properties", {}).get("ManagedPolicyArns", []):
                text = _flatten(arn)
                match = re.search(r":iam::aws:policy/(.+)$", text)
                name = match.group(1) if match else text
                yield f"{template.stack_name}/{logical_id}", name


def _flatten(value: Any) -> str:
    """Concatenate the literal parts of an intrinsic (enough to read an ARN's shape)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(part) for part in parts)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${AWS::Partition}", "aws")
    if isinstance(value, dict) and "Ref" in value:
        return "aws" if value["Ref"] == "AWS::Partition" else f"<{value['Ref']}>"
    return f"<{next(iter(value))}>" if isinstance(value, dict) else str(value)


@dataclass(frozen=True)
class Allowance:
    """One allow-list entry."""

    kind: str
    stack: str
    policy: str
    actions: frozenset[str]
    reason: str

    def covers(self, statement: Statement, actions: list[str]) -> bool:
        """True when this entry allows ``actions`` of ``statement``."""
        return (
            stack_part(statement.template) == self.stack
            and readable_id(statement.policy) == self.policy
            and set(actions) <= self.actions
        )


@dataclass(frozen=True)
class Allowlist:
    """The parsed allow-list file."""

    action_wildcards: tuple[Allowance, ...]
    star_resources: tuple[Allowance, ...]
    managed_policies: dict[str, str]


def load_allowlist(path: Path = ALLOWLIST_FILE) -> Allowlist:
    """Read the allow-list; every entry must give a reason."""
    data = tomllib.loads(path.read_text())

    def entries(kind: str) -> tuple[Allowance, ...]:
        return tuple(
            Allowance(kind, e["stack"], e["policy"], frozenset(e["actions"]), " ".join(e["reason"].split()))
            for e in data.get(kind, [])
        )

    managed = {e["name"]: " ".join(e["reason"].split()) for e in data.get("managed_policy", [])}
    return Allowlist(entries("action_wildcard"), entries("star_resource"), managed)
