"""Request parameters: declared once per endpoint, parsed strictly, described in the OpenAPI document.

A :class:`Param` says what one query parameter (or JSON body field) accepts; :func:`parse_query` reads the raw
query string (percent-decoded as strict UTF-8: bytes that are not UTF-8 are refused, never replaced) and
:func:`parse_json_body` a JSON object body. Anything unexpected -- a missing or unknown parameter, a bad
number, an empty or over-long word, text that is not UTF-8 -- raises a 400 :class:`~embedkit.serve.errors.ApiError`
with a one-line message in the CLI's style. Nothing here touches the file system: a set is a name looked up
among the served sets (see :mod:`embedkit.serve.sets`).

>>> spec = [Param("word", "word", "Query word.", required=True), Param("k", "int", "Results.", default=10, minimum=1)]
>>> parse_query(spec, b"word=caf%C3%A9&k=3")
{'word': 'café', 'k': 3}
>>> parse_query(spec, b"word=surf&k=0")
Traceback (most recent call last):
...
embedkit.serve.errors.ApiError: `k` must be a positive integer. Received: k=0
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from embedkit.serve.errors import ApiError, bad_request

MAX_WORD_CHARS = 200  # longer than any word of a real vocabulary; refused before any lookup
MAX_QUERY_BYTES = 16_384  # the raw query string
TYPES = ("word", "text", "int", "enum", "words", "vector", "bool")


@dataclass(frozen=True)
class Param:
    """One query parameter or JSON body field.

    Args:
        name: the parameter's name.
        type: ``word`` (non-empty text), ``text`` (may be empty), ``int``, ``enum`` (one of ``choices``),
            ``bool``, ``words`` (repeatable; a JSON list of words), ``vector`` (a JSON list of numbers).
        description: one line for the OpenAPI document.
        required: whether it must be given.
        default: the value when it is not given.
        minimum, maximum: bounds of an ``int``.
        choices: the values of an ``enum`` (aliases included).
        max_items: the most items of ``words`` / ``vector``.
        example: an example value for the OpenAPI document.
    """

    name: str
    type: str
    description: str
    required: bool = False
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    max_items: int | None = None
    example: Any = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"Param type must be one of {TYPES}. Received: {self.type!r}")

    # -- validation ---------------------------------------------------------------------------------------
    def _text(self, value: Any, label: str | None = None) -> str:
        label = label or self.name
        if not isinstance(value, str):
            raise bad_request(f"`{label}` must be a string. Received: {type(value).__name__}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(f"Expected UTF-8 text in `{label}`. Received: a lone surrogate code point") from None
        if len(value) > MAX_WORD_CHARS:
            raise bad_request(f"`{label}` must be at most {MAX_WORD_CHARS} characters. Received: {len(value)} characters")
        if self.type != "text" and not value.strip():
            raise bad_request(f"`{label}` must be a non-empty word. Received: {label}={value!r}")
        return value

    def _int(self, value: Any) -> int:
        if isinstance(value, str):
            try:
                number = int(value.strip(), 10) if value.strip().lstrip("+-").isdigit() else None
            except ValueError:  # pragma: no cover - isdigit() admits only what int() reads
                number = None
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            number = None
        lo = self.minimum
        if number is None or (lo is not None and number < lo):
            what = "a positive integer" if lo == 1 else ("an integer" if lo is None else f"an integer >= {lo}")
            shown = number if number is not None else repr(value)
            raise bad_request(f"`{self.name}` must be {what}. Received: {self.name}={shown}")
        if self.maximum is not None and number > self.maximum:
            raise bad_request(f"`{self.name}` must be at most {self.maximum}. Received: {self.name}={number}")
        return number

    def _enum(self, value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in self.choices:
            raise bad_request(f"`{self.name}` must be one of {', '.join(self.choices)}. Received: {self.name}={value!r}")
        return value.lower()

    def _bool(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        raise bad_request(f"`{self.name}` must be true or false. Received: {self.name}={value!r}")

    def _items(self, values: Sequence[Any]) -> None:
        if self.max_items is not None and len(values) > self.max_items:
            raise bad_request(f"`{self.name}` must have at most {self.max_items} items. Received: {len(values)}")
        if self.required and not values:
            raise bad_request(f"`{self.name}` must have at least one item. Received: none")

    def _vector(self, value: Any) -> list[float]:
        if not isinstance(value, list):
            raise bad_request(f"`{self.name}` must be a list of numbers. Received: {type(value).__name__}")
        self._items(value)
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in value):
            raise bad_request(f"`{self.name}` must be a list of numbers. Received: a list with other values")
        if not all(math.isfinite(x) for x in value):
            raise bad_request(f"`{self.name}` must hold finite numbers. Received: NaN or infinity")
        return [float(x) for x in value]

    def convert(self, values: list[Any], *, from_json: bool = False) -> Any:
        """The value of this parameter from its occurrences: the strings of a query (a ``words`` parameter may
        repeat), or the one JSON value of a body field (a ``words`` field is a list)."""
        if self.type == "words":
            flat = values[0] if from_json else values
            if not isinstance(flat, list):
                raise bad_request(f"`{self.name}` must be a list of words. Received: {type(flat).__name__}")
            self._items(flat)
            return [self._text(v, f"{self.name}[{i}]") for i, v in enumerate(flat)]
        if len(values) != 1:
            raise bad_request(f"Expected one `{self.name}` parameter. Received: {len(values)}")
        value = values[0]
        if self.type in ("word", "text"):
            return self._text(value)
        if self.type == "int":
            return self._int(value)
        if self.type == "enum":
            return self._enum(value)
        if self.type == "bool":
            return self._bool(value)
        return self._vector(value)

    # -- description --------------------------------------------------------------------------------------
    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this parameter's value (for the OpenAPI document)."""
        word = {"type": "string", "maxLength": MAX_WORD_CHARS, **({"minLength": 1} if self.type == "word" else {})}
        if self.type in ("word", "text"):
            out: dict[str, Any] = dict(word)
        elif self.type == "int":
            out = {"type": "integer", **({"minimum": self.minimum} if self.minimum is not None else {}),
                   **({"maximum": self.maximum} if self.maximum is not None else {})}
        elif self.type == "enum":
            out = {"type": "string", "enum": list(self.choices)}
        elif self.type == "bool":
            out = {"type": "boolean"}
        elif self.type == "words":
            out = {"type": "array", "items": {**word, "minLength": 1}}
        else:
            out = {"type": "array", "items": {"type": "number"}}
        if self.type in ("words", "vector") and self.max_items is not None:
            out["maxItems"] = self.max_items
        if self.type in ("words", "vector") and self.required:
            out["minItems"] = 1
        if self.default is not None:
            out["default"] = self.default
        return out


def _decode(name: bytes, raw: bytes) -> tuple[str, str]:
    key = unquote_to_bytes(name.replace(b"+", b" "))
    value = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        text_key = key.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_request(f"Expected UTF-8 text in parameter names. Received: bytes that are not UTF-8 "
                          f"({key[e.start:e.start + 4]!r})") from None
    try:
        return text_key, value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_request(f"Expected UTF-8 text in parameter `{text_key}`. Received: bytes that are not UTF-8 "
                          f"({value[e.start:e.start + 4]!r})") from None


def query_values(raw: bytes) -> dict[str, list[str]]:
    """Every parameter of a raw query string with its values in order (strict UTF-8 after percent-decoding).

    >>> query_values(b"word=a&word=b+c&k=")
    {'word': ['a', 'b c'], 'k': ['']}
    """
    if len(raw) > MAX_QUERY_BYTES:
        raise ApiError(414, "uri_too_long", f"Expected a query string of at most {MAX_QUERY_BYTES} bytes. "
                                            f"Received: {len(raw)} bytes")
    out: dict[str, list[str]] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        key, text = _decode(name, value)
        out.setdefault(key, []).append(text)
    return out


def _unknown(spec: Sequence[Param], names: Sequence[str], where: str) -> None:
    known = {p.name for p in spec}
    unknown = [n for n in names if n not in known]
    if unknown:
        allowed = ", ".join(p.name for p in spec) or "none"
        raise bad_request(f"Expected {where} among {allowed}. Received: {', '.join(repr(u) for u in unknown[:5])}",
                          allowed=[p.name for p in spec])


def _collect(spec: Sequence[Param], given: dict[str, list[Any]], from_json: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in spec:
        values = given.get(p.name)
        if values is None:
            if p.required:
                raise bad_request(f"Expected a `{p.name}` parameter. Received: none")
            out[p.name] = p.default
        else:
            out[p.name] = p.convert(values, from_json=from_json)
    return out


def parse_query(spec: Sequence[Param], raw: bytes) -> dict[str, Any]:
    """The values of ``spec``'s parameters from a raw query string (defaults filled in), or a 400 error."""
    given = query_values(raw)
    _unknown(spec, list(given), "query parameters")
    return _collect(spec, given)


def parse_json_body(spec: Sequence[Param], body: bytes, content_type: str | None = None) -> dict[str, Any]:
    """The values of ``spec``'s fields from a JSON object body (defaults filled in), or a 400 / 415 error.

    >>> parse_json_body([Param("words", "words", "Words.", required=True)], b'{"words": ["a", "b"]}')
    {'words': ['a', 'b']}
    """
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", f"Expected a body of type application/json. Received: {media}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad_request(f"Expected a UTF-8 JSON body. Received: bytes that are not UTF-8 at offset {e.start}") from None
    try:
        data = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError) as e:
        detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise bad_request(f"Expected a JSON object body. Received: invalid JSON ({detail})") from None
    if not isinstance(data, dict):
        raise bad_request(f"Expected a JSON object body. Received: {'nothing' if data is None else type(data).__name__}")
    _unknown(spec, list(data), "body fields")
    return _collect(spec, {k: [v] for k, v in data.items() if v is not None}, from_json=True)
