"""What to do about a failed call: one sentence the CLI prints under the error."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound

from agentcore_async.client.errors import (
    AccessDenied,
    AgentError,
    AgentFailed,
    ConnectionFailed,
    Unauthorized,
)
from agentcore_async.client.target import Target

CREDENTIALS = (
    "set AWS_PROFILE to a profile of ~/.aws/config (after `aws configure` or `aws sso login`), or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary keys); "
    "for the local emulator pass --endpoint-url (or set AGENTCORE_ENDPOINT_URL) instead"
)


BEARER = (
    "this runtime authenticates callers with JWTs: pass --bearer-token or set AGENTCORE_BEARER_TOKEN "
    "to an access token of its identity provider"
)


def emulator_down(endpoint_url: str) -> str:
    """What to do when nothing answers at the emulator's URL."""
    return f"nothing answers at {endpoint_url}; start the emulator with `make local` (it serves http://127.0.0.1:8090)"


def advice(error: AgentError | BotoCoreError, *, target: Target | None, command: str) -> str | None:
    """A hint for ``error`` raised while running ``command`` against ``target``; None if none helps."""
    if isinstance(error, BotoCoreError):
        if isinstance(error, ProfileNotFound):
            return (
                "AWS_PROFILE names a profile that is not in ~/.aws/config; "
                "`aws configure list-profiles` lists them"
            )
        return None
    if (hint := _auth_advice(error, target)) is not None:
        return hint
    if isinstance(error, ConnectionFailed) and target is not None and target.endpoint_url:
        return emulator_down(target.endpoint_url)
    if isinstance(error, AgentFailed) and command == "invoke":
        log = (
            "the emulator's terminal (make local)"
            if target is not None and target.endpoint_url
            else "the runtime's log group (`aws logs tail` with the Runtime stack's LogsTailCommand output)"
        )
        return (
            "a prompt runs the agent's model on Amazon Bedrock, so the agent needs Bedrock access "
            "(AWS credentials and model access in its region), also under the emulator; "
            f"the agent's log says what failed: {log}"
        )
    return None


def _auth_advice(error: AgentError, target: Target | None) -> str | None:
    """Hints for missing credentials, a refused bearer token, and SigV4 or a bearer token sent to the
    wrong runtime."""
    if error.code == NoCredentialsError.__name__:
        return f"no AWS credentials: {CREDENTIALS}"
    bearer = target is not None and target.bearer_token is not None
    if isinstance(error, Unauthorized):
        return (
            "the bearer token was refused (expired, or for another audience or client)" if bearer else BEARER
        )
    if isinstance(error, AccessDenied) and error.message.startswith("Authorization method mismatch"):
        return "this runtime takes SigV4 (IAM auth): drop --bearer-token" if bearer else BEARER
    return None
