"""Alert rules: once per crossing, re-armed above target, never from blocked/failed checks."""

from __future__ import annotations

from decimal import Decimal

from autobuy.engine.alerts import AlertRule, AlertState, Observation, evaluate

RULE = AlertRule(target_price=Decimal("100"), currency="EUR")


def ok(price: str | None, availability: str | None = "in_stock", currency: str = "EUR") -> Observation:
    return Observation("ok", Decimal(price) if price else None, currency, availability)


def run(rule: AlertRule, observations: list[Observation]) -> tuple[AlertState, list[list[str]]]:
    state = AlertState()
    fired = []
    for seen in observations:
        state, events = evaluate(rule, state, seen)
        fired.append([f"{e.kind}#{e.crossing}" for e in events])
    return state, fired


def test_fires_once_while_the_price_stays_below_target() -> None:
    state, fired = run(RULE, [ok("120"), ok("99"), ok("95"), ok("99"), ok("100")])
    assert fired == [[], ["price#1"], [], [], []]
    assert state.crossing == 1 and not state.armed


def test_rearms_above_target_and_fires_again_on_the_next_crossing() -> None:
    _, fired = run(RULE, [ok("99"), ok("101"), ok("98"), ok("150"), ok("90")])
    assert fired == [["price#1"], [], ["price#2"], [], ["price#3"]]


def test_blocked_and_failed_checks_neither_fire_nor_rearm() -> None:
    blocked = Observation("blocked", None, None, None)
    failed = Observation("failed", None, None, None)
    state, fired = run(RULE, [ok("99"), blocked, failed, ok("98")])
    assert fired == [["price#1"], [], [], []]
    assert state.crossing == 1
    # a blocked page between two low prices is not a re-arm either
    state2, fired2 = run(RULE, [ok("120"), blocked, ok("90")])
    assert fired2 == [[], [], ["price#1"]]


def test_other_currency_or_no_price_does_not_fire() -> None:
    _, fired = run(RULE, [ok("50", currency="CHF"), ok(None), ok("50")])
    assert fired == [[], [], ["price#1"]]


def test_out_of_stock_low_price_waits_and_does_not_count_as_a_new_crossing() -> None:
    _, fired = run(RULE, [ok("90", "out_of_stock"), ok("90", "in_stock")])
    assert fired == [[], ["price#1"]]
    _, fired = run(RULE, [ok("90"), ok("90", "out_of_stock"), ok("90")])
    assert fired == [["price#1"], [], []]


def test_percentage_drop_from_the_peak() -> None:
    rule = AlertRule(target_price=None, currency="EUR", drop_percent=Decimal("20"))
    _, fired = run(rule, [ok("100"), ok("125"), ok("101"), ok("100"), ok("90"), ok("130"), ok("104")])
    # peak 125 -> threshold 100; fires at 100, re-arms at 130 (new peak) -> threshold 104
    assert fired == [[], [], [], ["drop#1"], [], [], ["drop#2"]]


def test_back_in_stock() -> None:
    rule = AlertRule(target_price=Decimal("10"), currency="EUR", back_in_stock=True)
    _, fired = run(rule, [ok("50", "in_stock"), ok(None, "out_of_stock"),
                          Observation("blocked", None, None, None), ok("55", "in_stock"),
                          ok("55", "in_stock")])
    assert fired == [[], [], [], ["back_in_stock#None"], []]
