"""Timer bounds, flags, and lifecycle read from a synthesized cdk.out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.cdk_out import image_from_cdk_out, lifecycle_from_cdk_out
from emulator.cli import banner, parse
from emulator.config import DEFAULT_RUNTIME_ARN, ConfigError, EmulatorConfig, Lifecycle, default_max_booting

pytestmark = pytest.mark.unit


SOURCE_HASH = "ab" * 32


def write_template(
    directory: Path, stack: str, lifecycle: dict[str, int] | None, *, kinds: str = "", staged: bool = True
) -> None:
    """A runtime's template as synth writes it, and (``staged``) the image source asset it names."""
    uri = {
        "Fn::Join": [
            "",
            ["123456789012.dkr.ecr.us-east-1.", {"Ref": "AWS::URLSuffix"}, f"/repo:{SOURCE_HASH}"],
        ]
    }
    properties: dict[str, object] = {
        "AgentRuntimeName": "async_agent",
        "AgentRuntimeArtifact": {"ContainerConfiguration": {"ContainerUri": uri}},
    }
    if staged:
        asset = directory / f"asset.{SOURCE_HASH}"
        (asset / "agent").mkdir(parents=True, exist_ok=True)
        (asset / "agent" / "__main__.py").write_text("")
        (asset / "user_kinds").mkdir(exist_ok=True)
        (asset / "user_kinds" / "KINDS.txt").write_text(kinds)
    if lifecycle is not None:
        properties["LifecycleConfiguration"] = lifecycle
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Runtime1A2B3C": {"Type": "AWS::BedrockAgentCore::Runtime", "Properties": properties},
        }
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stack}.template.json").write_text(json.dumps(template))


@pytest.mark.parametrize("seconds", [59, 28801, 0])
def test_timers_outside_agentcore_bounds_are_refused(seconds: float) -> None:
    with pytest.raises(ConfigError, match="max lifetime"):
        Lifecycle(idle_timeout=60, max_lifetime=seconds).validate(fast_timers=False)


def test_short_timers_need_fast_timers() -> None:
    short = Lifecycle(idle_timeout=2, max_lifetime=5)
    with pytest.raises(ConfigError, match="--fast-timers"):
        short.validate(fast_timers=False)
    short.validate(fast_timers=True)


def test_idle_timeout_cannot_exceed_max_lifetime() -> None:
    with pytest.raises(ConfigError, match="exceed"):
        Lifecycle(idle_timeout=1800, max_lifetime=900).validate(fast_timers=False)


def test_aws_bounds_themselves_are_accepted() -> None:
    Lifecycle(idle_timeout=60, max_lifetime=28800).validate(fast_timers=False)


def test_config_rejects_a_non_runtime_arn() -> None:
    with pytest.raises(ConfigError, match="ARN"):
        EmulatorConfig(runtime_arns=("arn:aws:s3:::bucket",)).validate()


def test_start_up_slots_default_to_the_usable_cpus_and_bad_values_are_refused() -> None:
    config, _ = parse([])
    assert config.max_booting == default_max_booting() >= 1
    assert parse(["--max-booting", "5", "--boot-queue-timeout", "3"])[0].max_booting == 5
    with pytest.raises(ConfigError, match="max-booting"):
        EmulatorConfig(max_booting=0).validate()
    with pytest.raises(ConfigError, match="boot queue timeout"):
        EmulatorConfig(boot_queue_timeout=0).validate()


def test_lifecycle_is_read_from_the_runtime_resource(tmp_path: Path) -> None:
    write_template(
        tmp_path, "AgentCoreAsync-dev-Runtime", {"IdleRuntimeSessionTimeout": 300, "MaxLifetime": 1800}
    )
    assert lifecycle_from_cdk_out(tmp_path) == Lifecycle(idle_timeout=300, max_lifetime=1800)


def test_missing_lifecycle_configuration_means_agentcore_defaults(tmp_path: Path) -> None:
    write_template(tmp_path, "AgentCoreAsync-dev-Runtime", None)
    assert lifecycle_from_cdk_out(tmp_path) == Lifecycle(idle_timeout=900, max_lifetime=28800)


def test_several_stages_need_a_stack_choice(tmp_path: Path) -> None:
    write_template(
        tmp_path, "AgentCoreAsync-dev-Runtime", {"IdleRuntimeSessionTimeout": 300, "MaxLifetime": 1800}
    )
    write_template(
        tmp_path / "assembly-prod",
        "AgentCoreAsync-prod-Runtime",
        {"IdleRuntimeSessionTimeout": 1800, "MaxLifetime": 28800},
    )
    with pytest.raises(ConfigError, match="--stack"):
        lifecycle_from_cdk_out(tmp_path)
    chosen = lifecycle_from_cdk_out(tmp_path, stack="AgentCoreAsync-prod-Runtime")
    assert chosen == Lifecycle(idle_timeout=1800, max_lifetime=28800)
    by_stage, _ = parse(["--from-cdk-out", str(tmp_path), "--stage", "dev"])
    assert by_stage.lifecycle == Lifecycle(idle_timeout=300, max_lifetime=1800)
    assert f"(the development preset, from AgentCoreAsync-dev-Runtime in {tmp_path})" in banner(by_stage)


def test_a_cdk_out_without_runtime_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Other.template.json").write_text(json.dumps({"Resources": {}}))
    with pytest.raises(ConfigError, match="no AWS::BedrockAgentCore::Runtime"):
        lifecycle_from_cdk_out(tmp_path)
    with pytest.raises(ConfigError, match="make synth"):
        lifecycle_from_cdk_out(tmp_path / "missing")


def test_flags_override_cdk_out_which_overrides_presets(tmp_path: Path) -> None:
    write_template(
        tmp_path, "AgentCoreAsync-dev-Runtime", {"IdleRuntimeSessionTimeout": 300, "MaxLifetime": 1800}
    )
    config, _ = parse(
        ["--lifecycle", "long-running", "--from-cdk-out", str(tmp_path), "--idle-timeout", "120"]
    )
    assert config.lifecycle == Lifecycle(idle_timeout=120, max_lifetime=1800)
    preset, _ = parse(["--lifecycle", "interactive"])
    assert preset.lifecycle == Lifecycle(idle_timeout=900, max_lifetime=14400)


def test_bad_flags_exit_with_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(["--idle-timeout", "5"])
    assert exit_.value.code == 2
    assert "--fast-timers" in capsys.readouterr().err


def test_banner_names_the_endpoint_arn_and_client_commands() -> None:
    config, _ = parse(["--port", "9999", "--store-dir", "/tmp/not-used-store"])
    text = banner(config)
    assert "http://127.0.0.1:9999" in text
    assert DEFAULT_RUNTIME_ARN in text
    assert ".venv/bin/agentcore-async start" in text
    assert "AgentCore's defaults, no preset" in text


def test_banner_names_the_preset_the_timers_come_from(tmp_path: Path) -> None:
    preset, _ = parse(["--lifecycle", "interactive"])
    assert "idle 900s, max lifetime 14400s (the interactive preset)" in banner(preset)
    overridden, _ = parse(["--lifecycle", "interactive", "--idle-timeout", "120"])
    assert "(the interactive preset, overridden by --idle-timeout/--max-lifetime)" in banner(overridden)


def test_the_shutdown_grace_is_agentcores_15_seconds_and_configurable() -> None:
    # "Termination can last up to 15 seconds due to logging and other process completion."
    # (idleRuntimeSessionTimeout and maxLifetime in
    # https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-lifecycle-settings.html)
    assert EmulatorConfig().stop_grace == 15
    default, _ = parse([])
    assert default.stop_grace == 15
    quick, _ = parse(["--stop-grace", "2"])
    assert quick.stop_grace == 2


def test_agent_error_detail_is_off_unless_asked_for() -> None:
    default, _ = parse([])
    assert default.agent_error_detail is False
    detailed, _ = parse(["--agent-error-detail"])
    assert detailed.agent_error_detail is True


def test_from_cdk_out_the_agents_run_the_image_source_it_deploys(tmp_path: Path) -> None:
    write_template(tmp_path, "Tasks", None, kinds="kinds.word_count\nkinds.paced\n")
    image = image_from_cdk_out(tmp_path)
    assert image.directory == tmp_path / f"asset.{SOURCE_HASH}"
    assert image.extra_kinds == ("kinds.word_count", "kinds.paced")
    config, _ = parse(["--from-cdk-out", str(tmp_path)])
    assert config.agent_path == (str(image.directory), str(image.directory / "user_kinds"))
    assert config.extra_kinds == ("kinds.word_count", "kinds.paced")
    assert f"agent source  {image.directory} (the image's)" in banner(config)
    assert "extra kinds   kinds.word_count, kinds.paced" in banner(config)


def test_a_cdk_out_without_its_image_source_is_an_error(tmp_path: Path) -> None:
    write_template(tmp_path, "Tasks", None, staged=False)
    with pytest.raises(ConfigError, match="its image source is not in"):
        image_from_cdk_out(tmp_path)
