"""A large result's S3 object outlives its task record on every stage: the bucket's lifecycle rule
expires objects under the results prefix no sooner than the agent's record TTL
(``AGENT_RESULT_TTL_SECONDS`` on the runtime, or the agent's default when the stack sets none).
Otherwise a record that is still served would name an object that is gone."""

from __future__ import annotations

import copy
import math
from typing import Any, Final

from agent.settings import Settings
from agentcore_async.contract import EnvVar
from tests.infra.synth import AllSynths, Template, only, resources

DAY: Final = 86400
RUNTIME: Final = "AWS::BedrockAgentCore::Runtime"


def _results_expiry_days(storage: Template) -> int:
    rules = [
        rule
        for bucket in resources(storage, "AWS::S3::Bucket").values()
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rule["Id"] == "expire-results"
    ]
    (rule,) = rules
    days: int = rule["ExpirationInDays"]
    return days


def _runtime_environment(runtime: Template) -> dict[str, Any]:
    environment: dict[str, Any] = only(runtime, RUNTIME)["Properties"]["EnvironmentVariables"]
    return environment


def _record_ttl_days(runtime: Template) -> int:
    default = Settings.model_fields["result_ttl_seconds"].default
    seconds = int(_runtime_environment(runtime).get(EnvVar.RESULT_TTL_SECONDS, default))
    return math.ceil(seconds / DAY)


def retention_gap(storage: Template, runtime: Template) -> str | None:
    """Why result objects may expire before the records that name them, or None."""
    object_days, record_days = _results_expiry_days(storage), _record_ttl_days(runtime)
    if object_days < record_days:
        return f"result objects expire after {object_days} days, their records after {record_days}"
    return None


def test_result_objects_expire_no_sooner_than_their_records_on_every_stage(synthesized: AllSynths) -> None:
    for key, synth in synthesized.items():
        assert retention_gap(synth.template("Storage"), synth.template("Runtime")) is None, key


def test_control_a_record_kept_longer_than_its_object_is_caught(synthesized: AllSynths) -> None:
    synth = next(iter(synthesized.values()))
    storage = synth.template("Storage")
    runtime = copy.deepcopy(synth.template("Runtime"))
    environment = _runtime_environment(runtime)
    # One second past the objects' lifetime: in whole days (rounded up) the record outlives them.
    environment[EnvVar.RESULT_TTL_SECONDS] = str(_results_expiry_days(storage) * DAY + 1)
    assert retention_gap(storage, runtime) is not None
    environment[EnvVar.RESULT_TTL_SECONDS] = str(_results_expiry_days(storage) * DAY)
    assert retention_gap(storage, runtime) is None
