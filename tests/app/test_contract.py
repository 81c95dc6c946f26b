"""The contract between the API and the engine: tables as the shared definition says,
the due shard as specified, the checks-queue message as documented, and the engine's
schedule taken from the tiers' settings."""
from __future__ import annotations

import binascii
import json

import pytest
from autobuy import contract
from autobuy.config import TierLimits
from autobuy.engine.checks import CheckPolicy
from autobuy.engine.config import EngineSettings
from autobuy.engine.runner import check_policy
from autobuy.schema import load_tables


def test_every_table_of_the_contract_is_the_shared_definitions() -> None:
    defined = {t["name"]: t for t in load_tables()}
    for table in (contract.USERS, contract.ITEMS, contract.PRICE_HISTORY, contract.ALERTS,
                  contract.ORDERS):
        spec = defined[table.name]
        assert (table.hash_key, table.range_key) == (spec["hash_key_name"],
                                                      spec.get("range_key_name"))
        assert table.indexes == {index["name"] for index in spec["indexes"]}
    assert contract.PRICE_HISTORY.ttl_attribute == "expiresAt"
    assert contract.ITEMS.named("t1_") == "t1_autobuy_items"


def test_a_key_the_definition_does_not_have_stops_the_import() -> None:
    with pytest.raises(LookupError, match="autobuy_items is keyed by"):
        contract._table("autobuy_items", "itemId", "ownerId")  # noqa: SLF001
    with pytest.raises(LookupError, match="no index"):
        contract.ITEMS.index("ownerId-index")
    with pytest.raises(ValueError, match="needs userId"):
        contract.ITEMS.key("i1")


def test_the_key_and_index_attributes_are_the_definitions() -> None:
    due = next(i for i in next(t for t in load_tables() if t["name"] == "autobuy_items")["indexes"]
               if i["name"] == "dueShard-nextCheckAt-index")
    assert contract.ITEMS_DUE_INDEX == contract.Index(due["name"], due["hash_key_name"],
                                                      due["range_key_name"])
    assert (contract.ItemAttr.DUE_SHARD, contract.ItemAttr.NEXT_CHECK_AT) == ("dueShard", "nextCheckAt")
    assert (contract.OrderAttr.USER_ID, contract.OrderAttr.ORDER_ID) == ("userId", "orderId")
    assert contract.HistoryAttr.EXPIRES_AT == "expiresAt"
    with pytest.raises(LookupError, match="autobuy_price_history expires by expiresAt, the code by None"):
        contract._table("autobuy_price_history", "itemId", "checkedAt")  # noqa: SLF001


def test_due_shard_is_crc32_of_the_item_id_in_16_buckets() -> None:
    for item_id in ("i1", "item-42", "0f3a9c2e8d7b4a61b5c4d3e2f1a0b9c8"):
        assert contract.due_shard(item_id) == str(binascii.crc32(item_id.encode()) % 16)
    assert {contract.due_shard(f"item-{n}") for n in range(400)} == {str(s) for s in range(16)}


def test_check_message_is_the_documented_json() -> None:
    body = contract.CheckMessage("i1", "u1", "manual").encode()
    assert json.loads(body) == {"itemId": "i1", "userId": "u1", "reason": "manual"}
    assert contract.CheckMessage.decode(body) == contract.CheckMessage("i1", "u1", "manual")
    assert contract.CheckMessage.decode('{"itemId": "i2", "userId": "u2"}').reason == "scheduled"
    for bad in ("not json", "[1, 2]", '{"itemId": "i1"}'):
        with pytest.raises(ValueError):
            contract.CheckMessage.decode(bad)


def test_encode_leaves_out_none_and_decode_reverses_it() -> None:
    row = {"itemId": "i1", "title": None, "targetPrice": 12, "autoBuy": True}
    raw = contract.encode(row)
    assert raw == {"itemId": {"S": "i1"}, "targetPrice": {"N": "12"}, "autoBuy": {"BOOL": True}}
    assert contract.decode(raw) == {"itemId": "i1", "targetPrice": 12, "autoBuy": True}


def test_default_check_policy_is_the_documented_tiers() -> None:
    # docs/api.md "Tiers": every 6 h / 1 h / 15 min; history 30 / 365 / 730 days
    policy = CheckPolicy()
    assert policy.intervals == {"free": 6 * 3600, "pro": 3600, "ultra": 15 * 60}
    assert policy.history_days == {"free": 30, "pro": 365, "ultra": 730}


def test_the_engine_schedules_by_the_tiers_settings(monkeypatch) -> None:
    tiers = {name: TierLimits(item_limit=5, check_interval_minutes=minutes, history_days=days,
                              manual_checks_per_hour=5)
             for name, minutes, days in (("free", 120, 7), ("pro", 30, 90), ("ultra", 5, 400))}
    monkeypatch.setenv("AUTOBUY_TIERS", json.dumps({k: v.model_dump() for k, v in tiers.items()}))
    monkeypatch.setenv("AUTOBUY_CHECKS_QUEUE_URL", "http://127.0.0.1:9/q")
    monkeypatch.setenv("AUTOBUY_AUTOBUY_AUTO_CONFIRM", "true")
    policy = check_policy(EngineSettings(_env_file=None))
    assert policy.intervals == {"free": 7200, "pro": 1800, "ultra": 300}
    assert policy.history_days == {"free": 7, "pro": 90, "ultra": 400}
    assert policy.auto_confirm and policy.lease_seconds == CheckPolicy().lease_seconds


def test_engine_refuses_tiers_the_api_refuses(monkeypatch) -> None:
    monkeypatch.setenv("AUTOBUY_TIERS", json.dumps({"free": {
        "item_limit": 5, "check_interval_minutes": 60, "history_days": 30,
        "manual_checks_per_hour": 5}}))
    monkeypatch.setenv("AUTOBUY_CHECKS_QUEUE_URL", "http://127.0.0.1:9/q")
    with pytest.raises(ValueError, match="tiers must define exactly free, pro, ultra"):
        EngineSettings(_env_file=None)
