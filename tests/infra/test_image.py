"""Image pipeline: ECR repository, the arm64 privileged build and its custom resource."""

from __future__ import annotations

import json

from stacks.stages import STAGES
from tests.infra.synth import AllSynths, only, resources


def test_build_runs_on_an_arm_image_in_privileged_mode(synthesized: AllSynths) -> None:
    for synth in synthesized.values():
        environment = only(synth.template("Image"), "AWS::CodeBuild::Project")["Properties"]["Environment"]
        assert environment["Type"] == "ARM_CONTAINER"
        assert "aarch64" in environment["Image"]
        assert environment["PrivilegedMode"] is True


def test_buildspec_builds_the_agent_dockerfile_for_arm64_and_pushes_the_source_hash_tag(
    synthesized: AllSynths,
) -> None:
    for synth in synthesized.values():
        template = synth.template("Image")
        project = only(template, "AWS::CodeBuild::Project")["Properties"]
        commands = " ".join(
            command
            for phase in json.loads(project["Source"]["BuildSpec"])["phases"].values()
            for command in phase["commands"]
        )
        assert "docker build --platform linux/arm64" in commands
        assert "--file agent/Dockerfile" in commands
        assert 'docker push "$REPOSITORY_URI:$IMAGE_TAG"' in commands
        assert project["Source"]["Type"] == "S3"
        variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
        build = only(template, "Custom::AgentImageBuild")["Properties"]
        assert variables["IMAGE_TAG"] == build["SourceHash"]
        assert len(build["SourceHash"]) == 64
        # The tag is the hash of exactly the source the build downloads.
        assert project["Source"]["Location"]["Fn::Join"][1][-1] == f"/{build['SourceHash']}.zip"


def test_source_asset_is_the_agent_and_contract_without_caches_or_tests(synthesized: AllSynths) -> None:
    synth = synthesized["prod", "long-running"]
    tag = only(synth.template("Image"), "Custom::AgentImageBuild")["Properties"]["SourceHash"]
    staged = synth.outdir / f"asset.{tag}"
    assert {path.name for path in staged.iterdir()} == {"agent", "agentcore_async", "user_kinds"}
    assert (staged / "user_kinds" / "KINDS.txt").read_text() == ""  # no kinds_dir: no extra kind
    assert {path.name for path in (staged / "agentcore_async").iterdir()} == {
        "__init__.py",
        "contract",
        "kinds",
    }
    assert (staged / "agent" / "Dockerfile").is_file()
    assert (staged / "agent" / "settings.py").is_file()
    assert (staged / "agentcore_async" / "contract" / "__init__.py").is_file()
    names = {path.name for path in staged.rglob("*")}
    assert not names & {"__pycache__", "tests", ".pytest_cache", ".mypy_cache"}
    assert not any(name.endswith(".pyc") for name in names)


def test_custom_resource_polls_until_the_build_ends_within_a_deadline(
    synthesized: AllSynths,
) -> None:
    for synth in synthesized.values():
        template = synth.template("Image")
        build = only(template, "Custom::AgentImageBuild")["Properties"]
        assert build["ProjectName"] == {"Ref": next(iter(resources(template, "AWS::CodeBuild::Project")))}
        build_timeout = only(template, "AWS::CodeBuild::Project")["Properties"]["TimeoutInMinutes"]
        assert int(build["TimeoutSeconds"]) > build_timeout * 60
        handlers = {
            fn["Properties"]["Handler"]: fn["Properties"]
            for fn in resources(template, "AWS::Lambda::Function").values()
        }
        assert {"handler.on_event", "handler.is_complete"} <= set(handlers)
        assert handlers["handler.on_event"]["Architectures"] == ["arm64"]
        waiter = only(template, "AWS::StepFunctions::StateMachine")["Properties"]
        assert waiter["LoggingConfiguration"]["Level"] == "ALL"


def test_repository_scans_keeps_tags_immutable_and_expires_old_images(
    synthesized: AllSynths,
) -> None:
    for (stage, _), synth in synthesized.items():
        repository = only(synth.template("Image"), "AWS::ECR::Repository")["Properties"]
        assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert repository["ImageTagMutability"] == "IMMUTABLE"
        (rule,) = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert rule["selection"]["countType"] == "imageCountMoreThan"
        assert rule["selection"]["countNumber"] == STAGES[stage].max_images


def test_the_build_starts_only_once_the_projects_role_policy_exists(synthesized: AllSynths) -> None:
    """The build runs with the project's role; its grants (source, ECR push, logs) must be in place."""
    for synth in synthesized.values():
        template = synth.template("Image")
        project = only(template, "AWS::CodeBuild::Project")["Properties"]
        role = project["ServiceRole"]["Fn::GetAtt"][0]
        policies = {
            logical_id
            for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
            if {"Ref": role} in policy["Properties"]["Roles"]
        }
        assert policies
        build = only(template, "Custom::AgentImageBuild")
        assert policies | {role} <= set(build["DependsOn"])
