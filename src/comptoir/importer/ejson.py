"""MongoDB Extended JSON, as `mongoexport` writes it, decoded to plain values.

`{"$oid": "..."}` is its hex string (ids and references alike), `{"$date": ...}` an ISO
string or epoch milliseconds (the field readers take both), `{"$numberDecimal": "19.90"}`
its decimal string (read as money without a float in between), `{"$numberInt"}` and
`{"$numberLong"}` integers, `{"$numberDouble"}` a float.
"""

from typing import Any


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key.startswith("$"):
            return _scalar(key, inner, value)
    return {key: decode(item) for key, item in value.items()}


def _scalar(key: str, inner: Any, whole: dict[str, Any]) -> Any:
    if key == "$oid":
        return str(inner)
    if key == "$date":
        return decode(inner) if isinstance(inner, dict) else inner
    if key in ("$numberInt", "$numberLong"):
        return int(inner)
    if key == "$numberDouble":
        return float(inner)
    if key == "$numberDecimal":
        return str(inner)
    return whole  # an operator we do not know: the record keeps it as it is
