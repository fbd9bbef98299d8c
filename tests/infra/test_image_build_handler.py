"""The image-build custom resource handler against a stubbed CodeBuild client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agentcore_async.cdk.image_build.handler import BuildFailedError, check_complete, handle_event

pytestmark = pytest.mark.unit

PROJECT = "AgentImageBuild"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent"
BUILD_ID = f"{PROJECT}:0f6c1b8e-1111-2222-3333-444455556666"
LOG_LINK = "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/build"
STARTED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def codebuild() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codebuild", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def event(request: str, source_hash: str = "abc123", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "RequestType": request,
        "ResourceProperties": {
            "ProjectName": PROJECT,
            "RepositoryUri": REPOSITORY,
            "SourceHash": source_hash,
            "TimeoutSeconds": "600",
        },
    }
    return {**base, **extra}


def build(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": BUILD_ID,
        "buildStatus": status,
        "startTime": STARTED,
        "currentPhase": "BUILD",
        "logs": {"deepLink": LOG_LINK},
        **extra,
    }


def expect_start(stubber: Stubber, source_hash: str) -> None:
    stubber.add_response(
        "start_build",
        {"build": {"id": BUILD_ID, "buildStatus": "IN_PROGRESS"}},
        {
            "projectName": PROJECT,
            "environmentVariablesOverride": [
                {"name": "IMAGE_TAG", "value": source_hash, "type": "PLAINTEXT"}
            ],
        },
    )


def test_create_starts_a_build_tagged_with_the_source_hash(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    expect_start(stubber, "abc123")
    response = handle_event(event("Create"), client)
    assert response["PhysicalResourceId"] == f"image-build:{PROJECT}"
    assert response["Data"] == {"BuildId": BUILD_ID, "ImageTag": "abc123", "ImageUri": f"{REPOSITORY}:abc123"}


def test_update_with_a_new_source_hash_starts_a_build(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    expect_start(stubber, "new456")
    update = event(
        "Update",
        "new456",
        PhysicalResourceId=f"image-build:{PROJECT}",
        OldResourceProperties={"ProjectName": PROJECT, "SourceHash": "abc123"},
    )
    assert handle_event(update, client)["Data"]["BuildId"] == BUILD_ID


def test_update_with_the_same_source_hash_builds_nothing(codebuild: tuple[Any, Stubber]) -> None:
    client, _ = codebuild  # no stubbed response: any CodeBuild call would fail the test
    update = event(
        "Update",
        PhysicalResourceId=f"image-build:{PROJECT}",
        OldResourceProperties={"ProjectName": PROJECT, "SourceHash": "abc123", "TimeoutSeconds": "300"},
    )
    response = handle_event(update, client)
    assert "BuildId" not in response["Data"]
    assert check_complete({**update, **response}, client) == {"IsComplete": True}


def test_delete_leaves_images_and_completes_at_once(codebuild: tuple[Any, Stubber]) -> None:
    client, _ = codebuild
    delete = event("Delete", PhysicalResourceId=f"image-build:{PROJECT}")
    response = handle_event(delete, client)
    assert response == {"PhysicalResourceId": f"image-build:{PROJECT}"}
    assert check_complete({**delete, **response}, client) == {"IsComplete": True}


def started(request: str = "Create") -> dict[str, Any]:
    return event(request, Data={"BuildId": BUILD_ID, "ImageTag": "abc123"})


def test_in_progress_build_is_not_complete(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    stubber.add_response("batch_get_builds", {"builds": [build("IN_PROGRESS")]}, {"ids": [BUILD_ID]})
    assert check_complete(started(), client, now=lambda: STARTED.timestamp() + 60) == {"IsComplete": False}


def test_succeeded_build_completes(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    assert check_complete(started("Update"), client) == {"IsComplete": True}


@pytest.mark.parametrize("status", ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"])
def test_unsuccessful_build_fails_the_deploy_with_the_log_link(
    codebuild: tuple[Any, Stubber], status: str
) -> None:
    client, stubber = codebuild
    phases = [
        {"phaseType": "PRE_BUILD", "phaseStatus": "SUCCEEDED"},
        {
            "phaseType": "BUILD",
            "phaseStatus": status,
            "contexts": [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": "docker build exit status 1"}],
        },
    ]
    stubber.add_response("batch_get_builds", {"builds": [build(status, phases=phases)]}, {"ids": [BUILD_ID]})
    with pytest.raises(BuildFailedError) as raised:
        check_complete(started(), client)
    message = str(raised.value)
    assert f"image build {BUILD_ID} ended {status}" in message
    assert "BUILD: docker build exit status 1" in message
    assert message.endswith(f"logs: {LOG_LINK}")


def test_build_running_past_the_deadline_is_stopped_and_fails_with_the_log_link(
    codebuild: tuple[Any, Stubber],
) -> None:
    client, stubber = codebuild
    stubber.add_response("batch_get_builds", {"builds": [build("IN_PROGRESS")]}, {"ids": [BUILD_ID]})
    stubber.add_response(
        "stop_build", {"build": {"id": BUILD_ID, "buildStatus": "STOPPED"}}, {"id": BUILD_ID}
    )
    with pytest.raises(BuildFailedError) as raised:
        check_complete(started(), client, now=lambda: STARTED.timestamp() + 601)
    assert str(raised.value) == f"image build {BUILD_ID} still running after 600 s: stopped; logs: {LOG_LINK}"


def test_build_that_codebuild_no_longer_knows_fails(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    stubber.add_response(
        "batch_get_builds", {"builds": [], "buildsNotFound": [BUILD_ID]}, {"ids": [BUILD_ID]}
    )
    with pytest.raises(BuildFailedError, match="not found"):
        check_complete(started(), client)


def test_start_build_errors_reach_cloudformation(codebuild: tuple[Any, Stubber]) -> None:
    client, stubber = codebuild
    stubber.add_client_error("start_build", "ResourceNotFoundException", "Project cannot be found")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        handle_event(event("Create"), client)
