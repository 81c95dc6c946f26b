"""CloudWatch Logs gap fill: TestMetricFilter with JSON filter patterns."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def _matched(pattern: str, *events: Any) -> list[int]:
    messages = [e if isinstance(e, str) else json.dumps(e) for e in events]
    answer = boto3.client("logs").test_metric_filter(filterPattern=pattern, logEventMessages=messages)
    return [m["eventNumber"] for m in answer["matches"]]


@pytest.mark.parametrize(("pattern", "events", "expected"), [
    ('{ $.eventName = "ConsoleLogin" }', [{"eventName": "ConsoleLogin"}, {"eventName": "Other"}], [1]),
    ("{ $.eventName = ConsoleLogin }", [{"eventName": "ConsoleLogin"}], [1]),
    ('{ $.errorCode = "*UnauthorizedOperation" }',
     [{"errorCode": "Client.UnauthorizedOperation"}, {"errorCode": "AccessDenied"}], [1]),
    ('{ $.a.b != "Yes" }', [{"a": {"b": "No"}}, {"a": {"b": "Yes"}}, {"a": {}}], [1]),
    ("{ $.n > 5 }", [{"n": 7}, {"n": 5}, {"n": "7"}], [1]),
    ("{ $.user.invokedBy NOT EXISTS }", [{"user": {}}, {"user": {"invokedBy": "s3"}}], [1]),
    ("{ $.flag IS TRUE }", [{"flag": True}, {"flag": "true"}], [1]),
    ("{ $.list[1] = b }", [{"list": ["a", "b"]}, {"list": ["b"]}], [1]),
    ('{ ($.x = 1) || ($.y = 2) && ($.z = 3) }',
     [{"x": 1}, {"y": 2}, {"y": 2, "z": 3}], [1, 3]),
    ('{ (($.x = 1) || ($.y = 2)) && ($.z = 3) }',
     [{"x": 1}, {"x": 1, "z": 3}, {"y": 2, "z": 3}], [2, 3]),
    ('{ $.eventName = "ConsoleLogin" }', ["not json", '["ConsoleLogin"]'], []),
])
def test_json_patterns_count_what_cloudwatch_logs_counts(
        localcloud: str, pattern: str, events: list[Any], expected: list[int]) -> None:
    assert _matched(pattern, *events) == expected


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ ($.a = 1 }", "{ a = 1 }", "{ $.a = 1 $.b = 2 }"])
def test_a_malformed_json_pattern_is_refused(localcloud: str, pattern: str) -> None:
    with pytest.raises(ClientError) as caught:
        _matched(pattern, {"a": 1})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
