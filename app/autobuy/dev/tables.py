"""Create the DynamoDB tables of the shared definition when they are missing."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from autobuy.schema import create_table_params, load_tables


def ensure_tables(client: Any, prefix: str = "") -> list[str]:
    """Create every table of dynamodb_tables.yml that does not exist yet; returns the created."""
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    created = []
    for table in load_tables():
        params = create_table_params(table, prefix)
        if params["TableName"] in existing:
            continue
        client.create_table(**params)
        client.get_waiter("table_exists").wait(TableName=params["TableName"],
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        if table.get("ttl_attribute"):
            client.update_time_to_live(TableName=params["TableName"], TimeToLiveSpecification={
                "Enabled": True, "AttributeName": table["ttl_attribute"]})
        created.append(params["TableName"])
    return created


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m autobuy.dev.tables")
    parser.add_argument("--endpoint-url", default=os.environ.get("AUTOBUY_AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AUTOBUY_AWS_REGION", "eu-central-1"))
    parser.add_argument("--prefix", default=os.environ.get("AUTOBUY_TABLE_PREFIX", ""))
    args = parser.parse_args(argv)
    client = boto3.client("dynamodb", endpoint_url=args.endpoint_url or None, region_name=args.region)
    created = ensure_tables(client, args.prefix)
    print(f"tables: created {', '.join(created) if created else 'nothing (all exist)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
