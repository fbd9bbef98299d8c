"""The report code of figures 9 and 10: the start target's bound and the pre-index baseline reads."""

from __future__ import annotations

import pytest

from bench.baselines import full_partition_store
from bench.figures.concurrent_dynamodb import target_row
from bench.stats import Summary

pytestmark = pytest.mark.unit


def _p50(value: float) -> Summary:
    return Summary.of([value])


def test_the_start_bound_is_the_seeds_p50_plus_one_put_plus_2_ms() -> None:
    row = target_row(50, ours=_p50(20.0), seed=_p50(10.0), raw=_p50(7.5))
    assert row.target is not None and row.target.bound == pytest.approx(19.5)
    assert row.target_met is False and "19.5 ms" in row.target.text
    assert target_row(50, ours=_p50(19.0), seed=_p50(10.0), raw=_p50(7.5)).target_met is True


class _PagedClient:
    """Answers a query in two pages and records what was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def query(self, **params: object) -> dict[str, object]:
        self.calls.append(params)
        if "ExclusiveStartKey" not in params:
            return {"Items": [{"n": 1}], "LastEvaluatedKey": {"k": "1"}}
        return {"Items": [{"n": 2}]}


class _Store:
    _table = "tasks"

    def __init__(self) -> None:
        self._client = _PagedClient()


def test_the_baseline_reads_every_page_of_the_whole_partition_with_the_filter() -> None:
    store = _Store()
    query = full_partition_store.full_partition_query
    items = query(store, "s", "#s = :x", {"#s": "status"}, {":x": {"S": "a"}})
    assert items == [{"n": 1}, {"n": 2}]
    first = store._client.calls[0]
    assert "IndexName" not in first and first["ConsistentRead"] is True
    assert first["FilterExpression"] == "#s = :x"
    assert first["ExpressionAttributeNames"] == {"#pk": "session_id", "#s": "status"}
    assert store._client.calls[1]["ExclusiveStartKey"] == {"k": "1"}
