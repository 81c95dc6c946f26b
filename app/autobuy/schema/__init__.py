"""The DynamoDB table definitions shared with the provisioning playbooks."""
from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

_TYPES = {"STRING": "S", "NUMBER": "N", "BINARY": "B"}


def load_tables() -> list[dict[str, Any]]:
    """The tables as written in dynamodb_tables.yml (community.aws.dynamodb_table terms)."""
    text = resources.files(__package__).joinpath("dynamodb_tables.yml").read_text()
    return yaml.safe_load(text)["tables"]


def _key_schema(spec: dict[str, Any]) -> list[dict[str, str]]:
    keys = [{"AttributeName": spec["hash_key_name"], "KeyType": "HASH"}]
    if spec.get("range_key_name"):
        keys.append({"AttributeName": spec["range_key_name"], "KeyType": "RANGE"})
    return keys


def create_table_params(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """boto3 ``create_table`` keyword arguments for one table of the definition."""
    attrs: dict[str, str] = {}
    for spec in [table, *table.get("indexes", [])]:
        attrs[spec["hash_key_name"]] = _TYPES[spec.get("hash_key_type", "STRING")]
        if spec.get("range_key_name"):
            attrs[spec["range_key_name"]] = _TYPES[spec.get("range_key_type", "STRING")]
    params: dict[str, Any] = {
        "TableName": prefix + table["name"],
        "KeySchema": _key_schema(table),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attrs.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True},
    }
    projections = {"global_all": "ALL", "global_keys_only": "KEYS_ONLY", "global_include": "INCLUDE"}
    gsis = [
        {
            "IndexName": index["name"],
            "KeySchema": _key_schema(index),
            "Projection": {"ProjectionType": projections[index["type"]]},
        }
        for index in table.get("indexes", [])
    ]
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    return params
