"""`Registry`: the name → class (or factory) table at each extension point of embedkit.

Vector formats, index kinds, downstream models and tokenizer adapters are each one small class listed in a
registry; adding one is one new file plus one entry. An entry may be a ``"module:attribute"`` string so that
listing a registry imports nothing heavy. Unknown names, and unknown options, raise one-line errors:

>>> kinds = Registry("kind", {"exact": "collections:OrderedDict", "hnsw": dict}, aliases={"flat": "exact"})
>>> kinds.names(), kinds.canonical("flat"), kinds.get("hnsw") is dict
(['exact', 'hnsw'], 'exact', True)
>>> kinds.get("annoy")
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: `kind` must be one of exact, hnsw. Received: kind='annoy'
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from embedkit.errors import EmbedkitError

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered mapping from names to classes or factories, with aliases and lazy ``"module:attr"`` entries.

    Args:
        what: the name of the parameter that selects an entry (used in error messages).
        entries: name → class, factory or ``"module:attribute"``.
        aliases: other spellings accepted for a name (e.g. ``"add"`` for ``"3cosadd"``).
    """

    def __init__(self, what: str, entries: Mapping[str, T | str], aliases: Mapping[str, str] | None = None) -> None:
        self.what = what
        self._entries: dict[str, T | str] = dict(entries)
        self._aliases: dict[str, str] = dict(aliases or {})
        bad = [a for a, n in self._aliases.items() if n not in self._entries]
        if bad:
            raise ValueError(f"aliases {bad} name no entry of the {what} registry")

    def names(self) -> list[str]:
        """The canonical names, in registration order."""
        return list(self._entries)

    def aliases(self) -> dict[str, str]:
        """Alias → canonical name."""
        return dict(self._aliases)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def canonical(self, name: str) -> str:
        """The canonical name of ``name`` (an alias or a name); unknown names raise :class:`EmbedkitError`."""
        if name in self._entries:
            return name
        if isinstance(name, str) and name in self._aliases:
            return self._aliases[name]
        raise EmbedkitError(f"`{self.what}` must be one of {', '.join(self._entries)}. Received: {self.what}={name!r}")

    def get(self, name: str) -> T:
        """The class or factory registered as ``name`` (imported on first use when given as a string)."""
        key = self.canonical(name)
        value = self._entries[key]
        if isinstance(value, str):
            module, _, attr = value.partition(":")
            value = getattr(importlib.import_module(module), attr)
            self._entries[key] = value
        return value  # type: ignore[return-value]

    def items(self) -> Iterator[tuple[str, T]]:
        """``(name, entry)`` pairs, every entry imported."""
        return ((n, self.get(n)) for n in self.names())

    def parse_list(self, text: str | Iterable[str], *, all_word: str | None = "all") -> list[str]:
        """``"a,b"`` or ``["a", "b"]`` (or ``"all"``) as canonical names, in order, duplicates dropped.

        >>> Registry("mode", {"x": int, "y": str}).parse_list("y, x,y")
        ['y', 'x']
        """
        raw = text.split(",") if isinstance(text, str) else [p for t in text for p in str(t).split(",")]
        items = [t.strip() for t in raw if t.strip()]
        if all_word is not None and items == [all_word]:
            return self.names()
        if not items or any(t not in self for t in items):
            extra = f" (or {all_word})" if all_word else ""
            raise EmbedkitError(
                f"`{self.what}` must be a comma-separated list of {', '.join(self.names())}{extra}. "
                f"Received: {self.what}={text if isinstance(text, str) else list(text)!r}"
            )
        return list(dict.fromkeys(self.canonical(t) for t in items))


def check_options(what: str, given: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise a one-line :class:`EmbedkitError` when ``given`` holds a keyword outside ``allowed``.

    >>> check_options("the native reader", {"mmap": True}, ["mmap", "verify"])
    >>> check_options("the native reader", {"mmpa": True}, ["mmap", "verify"])
    Traceback (most recent call last):
    ...
    embedkit.errors.EmbedkitError: Options of the native reader must be among mmap, verify. Received: mmpa
    """
    allowed = list(allowed)
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise EmbedkitError(
            f"Options of {what} must be among {', '.join(allowed) or 'none'}. Received: {', '.join(unknown)}"
        )
