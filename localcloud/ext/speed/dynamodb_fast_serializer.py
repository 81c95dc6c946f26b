"""DynamoDB: serialise item attributes (``AttributeValue``) without the generic shape walk.

moto 5.2 turns every handler result into the wire format with a generic serializer
that walks the botocore output shape. For each ``AttributeValue`` it visits all ten
members (S, N, B, SS, NS, BS, M, L, NULL, BOOL) and, for each, tries up to a dozen
attribute aliases; a ``Query`` returning 20 items of 9 attributes costs ~1800 such
look-ups, ~29 ms of the ~35 ms the local cloud spends on it (cProfile, issue 5 §6).

moto keeps items as plain wire-format dicts (``{"S": "x"}``, ``{"M": {...}}``), so for
them that walk is an identity transform, except that blobs are base64-encoded. This
serializer takes a direct path for such values and produces the same JSON as the
generic one (``tests/localcloud/test_dynamodb_fast_serializer.py`` compares both on
every value kind). A value it does not recognise (another Python type, an unknown or
a second member, a ``None`` member) goes through moto's generic code unchanged, so
the output is the generic output by construction.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core import serialize
from moto.core.serialize import JSONSerializer

__all__ = ["DynamoJSONSerializer", "apply"]

_SHAPE = "AttributeValue"
_MISSING = object()


def _is_str_list(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _is_blob_list(value: Any) -> bool:
    return type(value) is list and all(type(v) in (bytes, str) for v in value)


class DynamoJSONSerializer(JSONSerializer):
    """moto's JSON serializer with a direct path for well-formed ``AttributeValue`` dicts."""

    def _serialize_type_structure(
        self, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == _SHAPE and type(value) is dict:
            fast = self._attribute_value(value, shape)
            if fast is not _MISSING:
                serialized[shape.serialization.get("name", key)] = fast
                return
        super()._serialize_type_structure(serialized, value, shape, key)

    def _serialize_type_map(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        # An item (AttributeMap, Key, ...): one direct pass instead of one _serialize per attribute.
        value_shape = shape.value
        if value_shape.name == _SHAPE and type(value) is dict:
            out = {}
            for name, attribute in value.items():
                wire = self._attribute_value(attribute, value_shape) if type(attribute) is dict else _MISSING
                if wire is _MISSING:
                    break
                out[name] = wire
            else:
                serialized[shape.serialization.get("name", key)] = out
                return
        super()._serialize_type_map(serialized, value, shape, key)

    def _attribute_value(self, value: dict[str, Any], shape: Any) -> Any:
        """The wire form of one attribute value, or ``_MISSING`` to use the generic path.

        A well-formed value has exactly one member; anything else (empty, several
        members) is left to the generic code. ``shape`` is only handed on to nested
        values: reading botocore shape members is itself costly (new objects per access).
        """
        if len(value) != 1:
            return _MISSING
        for name, member in value.items():
            if (name == "S" or name == "N") and type(member) is str:
                return value  # already its own wire form (the body is only read by json.dumps)
            convert = self._CONVERTERS.get(name)
            if convert is None:
                return _MISSING
            wire = convert(self, member, shape)
            if wire is _MISSING:
                return _MISSING
            return {name: wire}
        return _MISSING  # pragma: no cover - len(value) == 1

    # One converter per member: wire value, or _MISSING when the generic code must decide.
    def _string(self, v: Any, shape: Any) -> Any:
        return v if type(v) is str else _MISSING

    def _blob(self, v: Any, shape: Any) -> Any:
        return self._base64(v) if type(v) in (bytes, str) else _MISSING

    def _string_set(self, v: Any, shape: Any) -> Any:
        return list(v) if _is_str_list(v) else _MISSING

    def _blob_set(self, v: Any, shape: Any) -> Any:
        return [self._base64(b) for b in v] if _is_blob_list(v) else _MISSING

    def _boolean(self, v: Any, shape: Any) -> Any:
        return v if type(v) is bool else _MISSING

    def _map(self, v: Any, shape: Any) -> Any:
        if type(v) is not dict:
            return _MISSING
        out = {}
        for sub_key, sub_value in v.items():
            if type(sub_value) is not dict:
                return _MISSING
            wire = self._attribute_value(sub_value, shape)
            if wire is _MISSING:
                return _MISSING
            out[sub_key] = wire
        return out

    def _list(self, v: Any, shape: Any) -> Any:
        if type(v) is not list:
            return _MISSING
        out = []
        for element in v:
            if type(element) is not dict:
                return _MISSING
            wire = self._attribute_value(element, shape)
            if wire is _MISSING:
                return _MISSING
            out.append(wire)
        return out

    _CONVERTERS: dict[str, Callable[[DynamoJSONSerializer, Any, Any], Any]] = {
        "S": _string, "N": _string, "B": _blob, "SS": _string_set, "NS": _string_set,
        "BS": _blob_set, "M": _map, "L": _list, "NULL": _boolean, "BOOL": _boolean,
    }


def apply() -> None:
    """Use the direct path for DynamoDB's JSON protocol (moto picks it per service)."""
    per_service = serialize.SERVICE_SPECIFIC_SERIALIZERS.setdefault("dynamodb", {})
    per_service["json"] = DynamoJSONSerializer
