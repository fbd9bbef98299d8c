"""The container definition, checked as text (no Docker engine here), and the image's dependencies."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from agentcore_async.cdk.image_source import stage_image_source

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
AGENT_DIR = REPO / "agent"
FIRST_PARTY = {"agent", "agentcore_async", "__future__"}


def _instructions() -> list[tuple[str, str]]:
    text = (AGENT_DIR / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_essentials() -> None:
    steps = _instructions()
    kinds = [kind for kind, _ in steps]
    assert kinds[0] == "FROM"
    assert "--platform=linux/arm64" in steps[0][1]
    assert re.search(r"python:3\.1[1-9]", steps[0][1])
    assert ("EXPOSE", "8080") in steps
    assert steps[-1] == ("CMD", '["opentelemetry-instrument", "python", "-m", "agent"]')
    user = [arg for kind, arg in steps if kind == "USER"]
    assert user and user[-1] not in {"root", "0"}
    assert kinds.index("USER") < kinds.index("CMD")
    installs = [arg for kind, arg in steps if kind == "RUN" and "pip install" in arg]
    assert installs == ["pip install --no-cache-dir -r /app/requirements.txt"]


def test_the_container_starts_under_the_aws_distro_for_opentelemetry() -> None:
    """AgentCore's documentation runs Python agents as ``opentelemetry-instrument python ...`` with
    ``aws-opentelemetry-distro`` installed ("Add observability to your Amazon Bedrock AgentCore
    resources", https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/observability-configure.html).
    The upstream distro comes with it, so the image names the AWS one, as AgentCore does."""
    steps = _instructions()
    env = " ".join(arg for kind, arg in steps if kind == "ENV")
    assert "OTEL_PYTHON_DISTRO=aws_distro" in env.split()
    assert "OTEL_PYTHON_CONFIGURATOR=aws_configurator" in env.split()
    assert not [
        word for word in env.split() if word.startswith(("OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"))
    ]
    assert steps[-1][1].startswith('["opentelemetry-instrument",')
    assert "aws-opentelemetry-distro" in _pins()


def test_dockerfile_copies_work_with_the_staged_build_context(tmp_path: Path) -> None:
    staged = stage_image_source(tmp_path / "context", []).directory
    assert {path.name for path in staged.iterdir()} == {"agent", "agentcore_async", "user_kinds"}
    copies = [arg.split() for kind, arg in _instructions() if kind == "COPY"]
    for *sources, _ in copies:
        for source in sources:
            assert (staged / source).exists(), f"COPY source {source} is not in the build context"
    assert ["agent", "/app/agent/"] in copies  # the package lands in a directory named `agent`
    assert ["agentcore_async", "/app/agentcore_async/"] in copies
    assert ["user_kinds/", "/app/"] in copies  # each kind directory beside agent/, as in the project
    workdir = [arg for kind, arg in _instructions() if kind == "WORKDIR"]
    assert workdir == ["/app"]  # so `python -m agent` finds /app/agent


def _third_party_imports() -> set[str]:
    modules: set[str] = set()
    for path in [
        *AGENT_DIR.rglob("*.py"),
        *(REPO / "agentcore_async" / "contract").rglob("*.py"),
        *(REPO / "agentcore_async" / "kinds").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in FIRST_PARTY}


def _pins() -> dict[str, str]:
    lines = [
        line.strip()
        for line in (AGENT_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return dict(line.split("==") for line in lines)


def test_requirements_are_pinned_and_cover_every_import_without_cdk() -> None:
    pins = _pins()
    lines = [f"{name}=={version}" for name, version in pins.items()]
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values()), lines
    assert not [name for name in pins if "cdk" in name or name == "constructs"]
    distribution = {
        "bedrock_agentcore": "bedrock-agentcore",
        "strands": "strands-agents",
        "pydantic_settings": "pydantic-settings",
        # opentelemetry-api, -sdk and -instrumentation, at the versions the distro pins exactly.
        "opentelemetry": "aws-opentelemetry-distro",
    }
    imported = _third_party_imports()
    assert "aws_cdk" not in imported
    missing = {distribution.get(m, m) for m in imported} - set(pins)
    assert not missing, f"imported by agent/ but not pinned in agent/requirements.txt: {missing}"
