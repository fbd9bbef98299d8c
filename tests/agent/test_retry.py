"""Unit tests of the storage retry policy (a single function, so in-process)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from agent.errors import StoreUnavailableError
from agent.store.retry import RetryPolicy, is_transient


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem"
    )


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "stored"


def test_throttling_is_retried_until_it_succeeds() -> None:
    flaky = Flaky(
        [_client_error("ProvisionedThroughputExceededException"), _client_error("ThrottlingException")]
    )
    assert RetryPolicy(attempts=4, base_seconds=0.001).call("put", flaky) == "stored"
    assert flaky.calls == 3


def test_retries_are_bounded_then_storage_is_unavailable() -> None:
    flaky = Flaky([EndpointConnectionError(endpoint_url="http://127.0.0.1:1")] * 5)
    with pytest.raises(StoreUnavailableError):
        RetryPolicy(attempts=3, base_seconds=0.001).call("put", flaky)
    assert flaky.calls == 3


def test_non_transient_errors_are_not_retried() -> None:
    flaky = Flaky([_client_error("ResourceNotFoundException")])
    with pytest.raises(StoreUnavailableError):
        RetryPolicy(attempts=5, base_seconds=0.001).call("put", flaky)
    assert flaky.calls == 1


def test_classification() -> None:
    assert is_transient(_client_error("SlowDown", 503))
    assert is_transient(_client_error("Whatever", 500))
    assert not is_transient(_client_error("ValidationException"))
    assert not is_transient(ValueError("bad"))
