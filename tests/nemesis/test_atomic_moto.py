"""The nemesis's moto applies a conditional write atomically, as DynamoDB does: a compare-and-set
counter raced by several clients loses no update. (Plain ``moto.server`` loses some under the same
race: it checks a condition and stores the item in separate steps, with no lock between threads.)"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from bench.environment import AWS_ENV
from bench.processes import running

CLIENTS = 6
SECONDS = 4.0
PAD = "x" * 1024
# Thread switches as often as possible, so a race inside the server shows within seconds.
STRESSED = "import sys; sys.setswitchinterval(1e-5); from {module} import main; main(sys.argv[1:])"


def lost_updates(module: str, workdir: Path) -> tuple[int, int]:
    """(acknowledged conditional writes, lost ones) of a counter raced on ``module``'s server."""
    command = [sys.executable, "-c", STRESSED.format(module=module), "-H", "127.0.0.1", "-p", "{port}"]
    with running("moto", command, env=AWS_ENV, workdir=workdir, ready_path="/moto-api/") as moto:
        options = {"endpoint_url": moto.url, "region_name": "us-east-1"}
        options |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        setup = boto3.client("dynamodb", **options)
        key = {"pk": {"S": "counter"}}
        setup.create_table(
            TableName="race",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        setup.put_item(TableName="race", Item={**key, "v": {"N": "0"}, "pad": {"S": PAD}})
        acknowledged = [0] * CLIENTS

        def race(index: int) -> None:
            client = boto3.client("dynamodb", **options)
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                item = client.get_item(TableName="race", Key=key, ConsistentRead=True)["Item"]
                seen = int(item["v"]["N"])
                try:
                    client.put_item(
                        TableName="race",
                        Item={**key, "v": {"N": str(seen + 1)}, "pad": {"S": PAD}},
                        ConditionExpression="v = :seen",
                        ExpressionAttributeValues={":seen": {"N": str(seen)}},
                    )
                    acknowledged[index] += 1
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"

        threads = [threading.Thread(target=race, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = int(setup.get_item(TableName="race", Key=key, ConsistentRead=True)["Item"]["v"]["N"])
    return sum(acknowledged), sum(acknowledged) - final


def test_a_raced_compare_and_set_counter_loses_no_update(tmp_path: Path) -> None:
    acknowledged, lost = lost_updates("bench.atomic_moto", tmp_path)
    assert acknowledged > 50, "too few writes to race"
    assert lost == 0, f"{lost} of {acknowledged} acknowledged conditional writes were lost"
