"""CloudWatch Logs: ``TestMetricFilter`` with JSON filter patterns.

moto 5.2.5 has no ``TestMetricFilter`` (HTTP 500) and no matcher for JSON filter
patterns (``{ $.eventName = "ConsoleLogin" && ... }``), the syntax of the CIS metric
filters on the audit trail (playbooks/vars/trail_alarms.yml). Without it nothing on the
local cloud can say which events a filter counts. Here ``TestMetricFilter`` answers as on
AWS: the numbered events (from 1) whose message the pattern matches, with empty
``extractedValues``. JSON patterns follow CloudWatch Logs' documented syntax:

- a comparison ``$.a.b[0] OP value``: ``=`` and ``!=`` with a string (quoted or bare,
  ``*`` a wildcard) or a number; ``<``, ``<=``, ``>``, ``>=`` with a number;
  ``$.a IS TRUE|FALSE|NULL``; ``$.a NOT EXISTS`` (and ``EXISTS``);
- ``&&`` and ``||`` (``&&`` binds first) with parentheses;
- a comparison on a property the event lacks does not match (``!=`` included), and an
  event that is not a JSON object matches no JSON pattern.

Other patterns (terms, ``[...]`` space-delimited) go to moto's own term matcher, which
treats what it does not understand as matching everything: only JSON patterns are
modelled here.
"""
from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Callable

from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse
from moto.logs.utils import EventMessageFilter

from localcloud import patching

_TOKEN = re.compile(r"""\s*(?:
    (?P<paren>[()])|
    (?P<logic>&&|\|\|)|
    (?P<op>!=|<=|>=|=|<|>)|
    (?P<string>"(?:[^"\\]|\\.)*")|
    (?P<word>[^\s()=!<>&|"]+)
)""", re.VERBOSE)
_MISSING = object()


class PatternError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    text = text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match or match.end() == at:
            raise PatternError(f"unexpected {text[at:at + 10]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def _select(event: Any, selector: str) -> Any:
    if not selector.startswith("$"):
        raise PatternError(f"a selector starts with $ (got {selector!r})")
    value = event
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", selector[1:]):
        key, index = part
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(value: Any, op: str, operand: str, quoted: bool) -> bool:
    if value is _MISSING:
        return False
    number = None if quoted else _number(operand)
    if number is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"=": value == number, "!=": value != number, "<": value < number,
                "<=": value <= number, ">": value > number, ">=": value >= number}[op]
    if op not in ("=", "!="):
        return False
    if not isinstance(value, str):
        value = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
    equal = fnmatch.fnmatchcase(value, operand) if "*" in operand else value == operand
    return equal if op == "=" else not equal


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PatternError("the pattern ends too early")
        self.at += 1
        return token

    # expression := conjunction ("||" conjunction)*; conjunction := term ("&&" term)*
    def expression(self) -> Any:
        return self._chain("||", "or", self.conjunction)

    def conjunction(self) -> Any:
        return self._chain("&&", "and", self.term)

    def _chain(self, symbol: str, node: str, operand: Callable[[], Any]) -> Any:
        """``operand (symbol operand)*`` as a left-leaning tree of ``(node, left, right)``."""
        tree = operand()
        while self.peek() == ("logic", symbol):
            self.take()
            tree = (node, tree, operand())
        return tree

    def term(self) -> Any:
        kind, text = self.take()
        if (kind, text) == ("paren", "("):
            inner = self.expression()
            if self.take() != ("paren", ")"):
                raise PatternError("a parenthesis is not closed")
            return inner
        if kind != "word":
            raise PatternError(f"expected a selector, got {text!r}")
        selector = text
        kind, text = self.take()
        if kind == "op":
            operand_kind, operand = self.take()
            if operand_kind == "string":
                return ("cmp", selector, text, json.loads(operand), True)
            if operand_kind != "word":
                raise PatternError(f"expected a value after {text}, got {operand!r}")
            return ("cmp", selector, text, operand, False)
        if (kind, text.upper()) == ("word", "IS"):
            _, what = self.take()
            return ("is", selector, what.upper())
        if (kind, text.upper()) == ("word", "NOT"):
            _, what = self.take()
            if what.upper() != "EXISTS":
                raise PatternError(f"expected NOT EXISTS, got NOT {what}")
            return ("exists", selector, False)
        if (kind, text.upper()) == ("word", "EXISTS"):
            return ("exists", selector, True)
        raise PatternError(f"expected an operator after {selector}, got {text!r}")


def parse(pattern: str) -> Any:
    """The tree of a JSON filter pattern (``{ ... }``); PatternError when malformed."""
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise PatternError("a JSON filter pattern is enclosed in { }")
    parser = _Parser(_tokens(body[1:-1]))
    tree = parser.expression()
    if parser.peek() is not None:
        raise PatternError(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return tree


def _evaluate(tree: Any, event: Any) -> bool:
    kind = tree[0]
    if kind == "or":
        return _evaluate(tree[1], event) or _evaluate(tree[2], event)
    if kind == "and":
        return _evaluate(tree[1], event) and _evaluate(tree[2], event)
    value = _select(event, tree[1])
    if kind == "exists":
        return (value is not _MISSING) == tree[2]
    if kind == "is":
        return {"TRUE": value is True, "FALSE": value is False, "NULL": value is None}.get(tree[2], False)
    return _compare(value, tree[2], tree[3], tree[4])


def matches(pattern: str, message: str) -> bool:
    """Whether CloudWatch Logs would count ``message`` for ``pattern``."""
    if not pattern.strip().startswith("{"):
        return EventMessageFilter(pattern).matches(message)
    tree = parse(pattern)
    try:
        event = json.loads(message)
    except ValueError:
        return False
    return isinstance(event, dict) and _evaluate(tree, event)


def test_metric_filter(self: LogsResponse) -> str:
    pattern = self._get_param("filterPattern") or ""
    messages = self._get_param("logEventMessages") or []
    try:
        found = [{"eventNumber": number, "eventMessage": message, "extractedValues": {}}
                 for number, message in enumerate(messages, start=1) if matches(pattern, message)]
    except PatternError as error:
        raise InvalidParameterException(f"Invalid metric filter pattern: {error}") from None
    return json.dumps({"matches": found})


# pytest would collect a module-level test_* function of a module it imports.
test_metric_filter.__test__ = False  # type: ignore[attr-defined]


def apply() -> None:
    patching.answer(LogsResponse, test_metric_filter)
