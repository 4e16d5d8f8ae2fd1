"""`Tokenizer`: the regex word tokenizer shared by embedkit's trainer and the gensim check.

>>> tok = Tokenizer()
>>> tok("Don't PANIC: it's 42 o'clock!")
["don't", 'panic', "it's", '42', "o'clock"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from embedkit.errors import EmbedkitError

DEFAULT_PATTERN = r"[a-z0-9]+(?:'[a-z]+)?"


@dataclass(frozen=True)
class Tokenizer:
    """Regex word tokenizer (lowercase by default): the same tokens go to embedkit and to gensim.

    Args:
        pattern: regular expression matching one token.
        lowercase: lowercase the text before matching.
    """

    pattern: str = DEFAULT_PATTERN
    lowercase: bool = True

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as e:
            raise EmbedkitError(f"`pattern` must be a valid regular expression. Received: {self.pattern!r} ({e})")

    def __call__(self, text: str) -> list[str]:
        return _compiled(self.pattern).findall(text.lower() if self.lowercase else text)

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "lowercase": self.lowercase}


_RE_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    rx = _RE_CACHE.get(pattern)
    if rx is None:
        rx = _RE_CACHE[pattern] = re.compile(pattern)
    return rx
