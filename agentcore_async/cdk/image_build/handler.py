"""Custom resource handler: build the agent image in CodeBuild and wait until it is pushed.

Runs in Lambda under the CDK provider framework. ``on_event`` starts a build when the source
hash is new; ``is_complete`` is polled until the build ends. A failed, stopped or overdue build
fails the deploy with a link to the build's logs, so the runtime is never created without its
image. Only boto3 (present in the Lambda runtime) is imported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Final

import boto3

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

Event = dict[str, Any]

IN_PROGRESS: Final = "IN_PROGRESS"
SUCCEEDED: Final = "SUCCEEDED"
DEFAULT_TIMEOUT_SECONDS: Final = 1800


class BuildFailedError(RuntimeError):
    """The image build did not succeed; the message is what CloudFormation shows."""


@cache
def _codebuild() -> Any:
    return boto3.client("codebuild")


def _props(event: Event) -> dict[str, Any]:
    props: dict[str, Any] = event["ResourceProperties"]
    return props


def _physical_id(event: Event) -> str:
    return f"image-build:{_props(event)['ProjectName']}"


def handle_event(event: Event, codebuild: Any) -> Event:
    """Start a build on create, or on update when the source hash changed; nothing on delete."""
    request = event["RequestType"]
    props = _props(event)
    data = {"ImageTag": props["SourceHash"], "ImageUri": f"{props['RepositoryUri']}:{props['SourceHash']}"}
    if request == "Delete":
        # Images stay in ECR; the repository's lifecycle rule expires old ones.
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    old_hash = event.get("OldResourceProperties", {}).get("SourceHash")
    if request == "Update" and old_hash == props["SourceHash"]:
        LOGGER.info("source hash %s unchanged: no build", props["SourceHash"])
        return {"PhysicalResourceId": event["PhysicalResourceId"], "Data": data}
    response = codebuild.start_build(
        projectName=props["ProjectName"],
        environmentVariablesOverride=[
            {"name": "IMAGE_TAG", "value": props["SourceHash"], "type": "PLAINTEXT"},
        ],
    )
    build_id: str = response["build"]["id"]
    LOGGER.info("started build %s for source hash %s", build_id, props["SourceHash"])
    return {"PhysicalResourceId": _physical_id(event), "Data": {**data, "BuildId": build_id}}


def _failure_message(build: dict[str, Any]) -> str:
    reasons = [
        f"{phase['phaseType']}: {context['message']}"
        for phase in build.get("phases", [])
        if phase.get("phaseStatus") not in (None, SUCCEEDED)
        for context in phase.get("contexts", [])
        if context.get("message")
    ]
    detail = f" ({'; '.join(reasons)})" if reasons else ""
    link = build.get("logs", {}).get("deepLink", "no log link available")
    return f"image build {build['id']} ended {build['buildStatus']}{detail}; logs: {link}"


def check_complete(event: Event, codebuild: Any, now: Callable[[], float] = time.time) -> Event:
    """Report whether the build started by :func:`handle_event` has finished successfully."""
    build_id = event.get("Data", {}).get("BuildId")
    if event["RequestType"] == "Delete" or build_id is None:
        return {"IsComplete": True}
    builds = codebuild.batch_get_builds(ids=[build_id])["builds"]
    if not builds:
        raise BuildFailedError(f"image build {build_id} not found")
    build = builds[0]
    status = build["buildStatus"]
    if status == SUCCEEDED:
        LOGGER.info("build %s succeeded", build_id)
        return {"IsComplete": True}
    if status != IN_PROGRESS:
        raise BuildFailedError(_failure_message(build))
    timeout = int(_props(event).get("TimeoutSeconds", DEFAULT_TIMEOUT_SECONDS))
    elapsed = now() - build["startTime"].timestamp()
    if elapsed > timeout:
        codebuild.stop_build(id=build_id)
        link = build.get("logs", {}).get("deepLink", "no log link available")
        raise BuildFailedError(
            f"image build {build_id} still running after {timeout} s: stopped; logs: {link}"
        )
    LOGGER.info("build %s in progress (%s, %.0f s)", build_id, build.get("currentPhase"), elapsed)
    return {"IsComplete": False}


def on_event(event: Event, _context: object) -> Event:
    """Lambda entry point of the provider's onEvent handler."""
    return handle_event(event, _codebuild())


def is_complete(event: Event, _context: object) -> Event:
    """Lambda entry point of the provider's isComplete handler."""
    return check_complete(event, _codebuild())
