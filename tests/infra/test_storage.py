"""Storage: the task table, the results bucket and the cache."""

from __future__ import annotations

from typing import Any

from agent.store.dynamodb import task_table_definition
from agentcore_async.contract import RESULTS_PREFIX, TableSchema
from stacks.stages import STAGES
from tests.infra.synth import AllSynths, Synthesized, only, resources


def test_table_fits_get_one_task_and_list_a_sessions_tasks_newest_first(
    synthesized: AllSynths,
) -> None:
    for synth in synthesized.values():
        table = only(synth.template("Storage"), "AWS::DynamoDB::Table")["Properties"]
        assert table["KeySchema"] == [
            {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TableSchema.SORT_KEY, "KeyType": "RANGE"},
        ]
        (index,) = table["LocalSecondaryIndexes"]
        assert index["IndexName"] == TableSchema.CREATED_INDEX
        assert index["KeySchema"] == [
            {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TableSchema.CREATED_ATTRIBUTE, "KeyType": "RANGE"},
        ]
        (open_index,) = table["GlobalSecondaryIndexes"]
        assert open_index["IndexName"] == TableSchema.OPEN_INDEX
        assert open_index["KeySchema"] == [
            {"AttributeName": TableSchema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TableSchema.OPEN_ATTRIBUTE, "KeyType": "RANGE"},
        ]
        assert open_index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert types == {
            TableSchema.PARTITION_KEY: "S",
            TableSchema.SORT_KEY: "S",
            TableSchema.CREATED_ATTRIBUTE: "N",
            TableSchema.OPEN_ATTRIBUTE: "S",
        }


def _by_name(definitions: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(definitions, key=lambda d: d["AttributeName"])


def test_local_table_definition_matches_the_deployed_table(synthesized: AllSynths) -> None:
    """Tests, benchmarks and local runs create their table from the same shape the stack deploys."""
    local = task_table_definition("local")
    for synth in synthesized.values():
        table = only(synth.template("Storage"), "AWS::DynamoDB::Table")["Properties"]
        for key in ("BillingMode", "KeySchema", "LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            assert table[key] == local[key], key
        assert _by_name(table["AttributeDefinitions"]) == _by_name(local["AttributeDefinitions"])


def test_table_is_on_demand_with_ttl_pitr_and_encryption(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        resource = only(synth.template("Storage"), "AWS::DynamoDB::Table")
        table = resource["Properties"]
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["TimeToLiveSpecification"] == {
            "AttributeName": TableSchema.TTL_ATTRIBUTE,
            "Enabled": True,
        }
        assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert table["SSESpecification"]["SSEEnabled"] is True
        if stage == "prod":
            assert table["DeletionProtectionEnabled"] is True
            assert resource["DeletionPolicy"] == "Retain"
        else:
            assert resource["DeletionPolicy"] == "Delete"


def buckets(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return resources(synth.template("Storage"), "AWS::S3::Bucket")


def results_bucket(synth: Synthesized) -> dict[str, Any]:
    (bucket,) = [b for b in buckets(synth).values() if "LoggingConfiguration" in b["Properties"]]
    properties: dict[str, Any] = bucket["Properties"]
    return properties


def test_buckets_are_private_encrypted_and_tls_only(synthesized: AllSynths) -> None:
    for synth in synthesized.values():
        template = synth.template("Storage")
        policies = {
            policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]["PolicyDocument"]["Statement"]
            for policy in resources(template, "AWS::S3::BucketPolicy").values()
        }
        for logical_id, bucket in buckets(synth).items():
            props = bucket["Properties"]
            assert props["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }
            (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
            denies = [s for s in policies[logical_id] if s["Effect"] == "Deny"]
            assert any(
                s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                and s["Principal"] == {"AWS": "*"}
                for s in denies
            ), f"{logical_id} does not deny plain HTTP"


def test_results_expire_after_the_stage_retention_and_versioning_follows_the_stage(
    synthesized: AllSynths,
) -> None:
    for (stage, _), synth in synthesized.items():
        config = STAGES[stage]
        bucket = results_bucket(synth)
        rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
        expire = rules["expire-results"]
        assert (expire["Prefix"], expire["ExpirationInDays"], expire["Status"]) == (
            RESULTS_PREFIX,
            config.result_object_days,
            "Enabled",
        )
        versioned = bucket.get("VersioningConfiguration", {}).get("Status") == "Enabled"
        assert versioned is config.bucket_versioning
        assert ("expire-old-versions" in rules) is config.bucket_versioning


def test_cache_is_serverless_valkey_in_the_private_subnets(synthesized: AllSynths) -> None:
    for (stage, _), synth in synthesized.items():
        caches = resources(synth.template("Storage"), "AWS::ElastiCache::ServerlessCache")
        if not STAGES[stage].cache_enabled:
            assert caches == {}
            continue
        (cache,) = caches.values()
        props = cache["Properties"]
        assert props["Engine"] == "valkey"
        (group,) = props["SecurityGroupIds"]
        assert "SecurityGroupsCache" in group["Fn::ImportValue"]
        assert all("privateSubnet" in subnet["Fn::ImportValue"] for subnet in props["SubnetIds"])
        assert len(props["SubnetIds"]) == 2


def test_the_cache_user_group_holds_only_the_agents_iam_user(synthesized: AllSynths) -> None:
    """A Valkey user group takes only users that authenticate (see ``tests/infra/aws_rules.py``)."""
    for (stage, _), synth in synthesized.items():
        template = synth.template("Storage")
        groups = resources(template, "AWS::ElastiCache::UserGroup")
        if not STAGES[stage].cache_enabled:
            assert groups == {}
            continue
        (group,) = groups.values()
        users = resources(template, "AWS::ElastiCache::User")
        assert group["Properties"]["UserIds"] == [{"Ref": logical_id} for logical_id in users]
        (user,) = (user["Properties"] for user in users.values())
        assert user["AuthenticationMode"] == {"Type": "iam"}
        assert user["UserName"] == user["UserId"] == f"agentcore-async-{stage}-agent"
