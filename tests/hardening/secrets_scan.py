"""Find secrets in CloudFormation templates and in the agent image's build context."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

SECRET_TEXT: Final = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@"),
    "AWS secret assignment": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}", re.IGNORECASE
    ),
}
SECRET_NAME: Final = re.compile(
    r"(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential)", re.IGNORECASE
)
"""Names (properties, variables) whose literal value would be a secret."""
NOT_A_SECRET: Final = re.compile(r"(Type|Mode|Arn|Name|Id|Enabled)$")
"""CloudFormation properties that name or point at a secret, e.g. ``ImagePullCredentialsType``."""
FORBIDDEN_FILES: Final = re.compile(
    r"(^\.env(\..*)?$|\.pem$|\.key$|^id_(rsa|ed25519|ecdsa)|^credentials$|\.sqlite3?$|^\.git$|^\.aws$|\.p12$)"
)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _walk(inner, f"{path}[{index}]")


def template_findings(body: dict[str, Any]) -> list[str]:
    """Secret-looking literals in a template: known secret formats anywhere, and literal values of
    secret-named properties or environment variables (references such as ``{"Ref": ...}`` are fine)."""
    findings: list[str] = []
    for path, value in _walk(body, ""):
        if isinstance(value, str):
            findings += [f"{path}: {name}" for name, pattern in SECRET_TEXT.items() if pattern.search(value)]
        if isinstance(value, dict):
            for key, inner in value.items():
                named = SECRET_NAME.search(str(key)) and not NOT_A_SECRET.search(str(key))
                if named and isinstance(inner, str | int) and str(inner).strip():
                    findings.append(f"{path}.{key}: literal value for a secret-named field")
            # CodeBuild and ECS style variables: [{"Name": ..., "Value": ...}]
            name, literal = value.get("Name"), value.get("Value")
            if isinstance(name, str) and SECRET_NAME.search(name) and isinstance(literal, str):
                findings.append(f"{path}: variable {name} holds a literal")
    return findings


def image_findings(context: Path) -> list[str]:
    """Forbidden files and secret-looking text in an image build context."""
    findings: list[str] = []
    for path in sorted(context.rglob("*")):
        relative = path.relative_to(context)
        if any(FORBIDDEN_FILES.search(part) for part in relative.parts):
            findings.append(f"{relative}: file must not be in the image")
            continue
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        findings += [f"{relative}: {name}" for name, pattern in SECRET_TEXT.items() if pattern.search(text)]
        if path.name == "Dockerfile":
            for line in text.splitlines():
                match = re.match(r"\s*(ENV|ARG)\s+(.*)", line)
                if match and SECRET_NAME.search(match.group(2)):
                    findings.append(f"{relative}: {line.strip()} bakes a secret-named value into the image")
    return findings
