"""No secret in any synthesized template or in the agent image; Redis on AWS uses TLS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hardening.secrets_scan import image_findings, template_findings
from tests.hardening.templates import STAGES, Template


def _image_contexts(templates: list[Template]) -> list[Path]:
    """The agent's build context as staged by each stage's synth (the asset holding its entry point)."""
    roots = {template.path.parent for template in templates}
    contexts = [
        asset
        for root in roots
        for asset in root.glob("asset.*")
        if (asset / "agent" / "__main__.py").is_file()
        and (asset / "agentcore_async" / "contract" / "__init__.py").is_file()
    ]
    return sorted(contexts)


def test_the_scanner_finds_planted_secrets(tmp_path: Path) -> None:
    planted = {
        "Resources": {
            "Fn": {"Properties": {"Environment": {"Variables": {"API_TOKEN": "abc123"}}}},
            "Build": {
                "Properties": {
                    "Environment": {"EnvironmentVariables": [{"Name": "DB_PASSWORD", "Value": "x"}]}
                }
            },
            "Key": {"Properties": {"Description": "AKIAABCDEFGHIJKLMNOP"}},
            "Url": {"Properties": {"Endpoint": "rediss://default:hunter2@cache.example:6379"}},
        }
    }
    assert len(template_findings(planted)) == 4
    safe = {
        "Resources": {"Fn": {"Properties": {"Environment": {"Variables": {"API_TOKEN": {"Ref": "Secret"}}}}}}
    }
    assert template_findings(safe) == []
    (tmp_path / ".env").write_text("X=1")
    (tmp_path / "Dockerfile").write_text("FROM python\nENV OPENAI_API_KEY=sk-123\n")
    (tmp_path / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert len(image_findings(tmp_path)) == 3


def test_no_secret_in_any_template(templates: list[Template]) -> None:
    findings = [f"{t.stack_name}{f}" for t in templates for f in template_findings(t.body)]
    assert not findings, "\n".join(findings)


def test_no_secret_in_the_agent_image(templates: list[Template]) -> None:
    contexts = _image_contexts(templates)
    assert len({context.name for context in contexts}) >= 1
    assert all((context / "agent" / "Dockerfile").is_file() for context in contexts)
    for context in contexts:
        findings = image_findings(context)
        assert not findings, "\n".join(findings)


@pytest.mark.parametrize("stage", STAGES)
def test_redis_on_aws_is_reached_over_tls(templates: list[Template], stage: str) -> None:
    [runtime] = [t for t in templates if t.stage == stage and t.stack_name.endswith("-Runtime")]
    [agent_runtime] = [r for _, r in runtime.resources("AWS::BedrockAgentCore::Runtime")]
    url = agent_runtime["Properties"].get("EnvironmentVariables", {}).get("AGENT_REDIS_URL")
    caches = [
        r for t in templates if t.stage == stage for _, r in t.resources("AWS::ElastiCache::ServerlessCache")
    ]
    if not caches:
        assert url is None
        return
    assert url is not None, f"{stage} has a cache the agent is not told about"
    assert json.dumps(url).startswith('{"Fn::Join": ["", ["rediss://'), url
