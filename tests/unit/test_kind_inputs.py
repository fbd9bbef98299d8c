"""A kind's input refused by the path of what is wrong, also inside a union (``batch``'s items are
text or ``{"s3_key"}`` objects): the member the value got furthest into names the problem."""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import ApiError
from agent.kinds.batch import KIND as BATCH
from agent.kinds.registry import parse_input

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"s3_key": "results/someone-elses"}], "input.items.0.s3_key: String should match pattern"),
        (["a", {}], "input.items.1.s3_key: field required"),
        ([{"s3_key": "inputs/a.txt", "bucket": "b"}], "input.items.0.bucket: unknown field"),
        (["a", 5], "input.items.1: Input should be a valid string"),
        ([""], "input.items.0: String should have at least 1 character"),
    ],
)
def test_a_bad_batch_item_is_named_by_what_is_wrong_with_it(items: list[Any], message: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_input(BATCH, {"instruction": "upper", "items": items}, "input.")
    assert refused.value.code == "InvalidField"
    assert refused.value.message.startswith(message), refused.value.message


def test_errors_outside_a_union_are_reported_first_come() -> None:
    with pytest.raises(ApiError) as refused:
        parse_input(BATCH, {"instruction": "", "items": [{}]}, "input.")
    assert refused.value.message.startswith("input.instruction:"), refused.value.message
