"""`Tokenizer`: embedkit's one word tokenizer, a regular expression over (lowercased) text, with named presets.

Presets (:data:`PRESETS`, ``Tokenizer.preset(name)``):

- ``words`` (the default): ``[a-z0-9]+('[a-z]+)?`` — what embedkit trains on and hands to gensim;
- ``glove``: words (inner hyphens kept), the clitics GloVe and word2vec keep apart (``does`` ``n't``, ``it``
  ``'s``) and single punctuation marks — downstream evaluation over pretrained vectors;
- ``keras``: what the legacy Keras ``Tokenizer`` splits on by default (whitespace and ``!"#$%&()*+,-./:;<=>?@
  [\\]^_`{|}~``) — vocabularies built the way Keras users built them.

>>> tok = Tokenizer()
>>> tok("Don't PANIC: it's 42 o'clock!")
["don't", 'panic', "it's", '42', "o'clock"]
>>> Tokenizer.preset("glove")("It's a well-made film, doesn't it?")
['it', "'s", 'a', 'well-made', 'film', ',', 'does', "n't", 'it', '?']
>>> Tokenizer.preset("keras")("Hello, world! It's 3pm.")
['hello', 'world', "it's", '3pm']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from embedkit.errors import EmbedkitError

DEFAULT_PATTERN = r"[a-z0-9]+(?:'[a-z]+)?"
GLOVE_PATTERN = r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|d|ll|m)\b|[^\W_]+(?:-[^\W_]+)*|[^\w\s]"
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
KERAS_PATTERN = "[^\\s" + re.escape(KERAS_FILTERS) + "]+"

PRESETS: dict[str, str] = {"words": DEFAULT_PATTERN, "glove": GLOVE_PATTERN, "keras": KERAS_PATTERN}


@dataclass(frozen=True)
class Tokenizer:
    """Regex word tokenizer (lowercase by default): ``Tokenizer(pattern)(text)`` is the list of matches.

    Args:
        pattern: regular expression matching one token.
        lowercase: lowercase the text before matching.
    """

    pattern: str = DEFAULT_PATTERN
    lowercase: bool = True

    def __post_init__(self) -> None:
        try:
            _compiled(self.pattern)
        except re.error as e:
            raise EmbedkitError(
                f"`pattern` must be a valid regular expression. Received: {self.pattern!r} ({e})"
            ) from None

    @classmethod
    def preset(cls, name: str, lowercase: bool = True) -> Tokenizer:
        """The tokenizer of a named preset (``words``, ``glove``, ``keras``)."""
        if name not in PRESETS:
            raise EmbedkitError(f"`tokenizer` must be one of {', '.join(PRESETS)}. Received: tokenizer={name!r}")
        return cls(PRESETS[name], lowercase)

    def __call__(self, text: str) -> list[str]:
        return _compiled(self.pattern).findall(text.lower() if self.lowercase else text)

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "lowercase": self.lowercase}


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
