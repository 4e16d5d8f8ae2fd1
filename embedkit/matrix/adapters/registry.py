"""`ADAPTERS`: the tokenizer adapters by kind, and :func:`as_vocab` / :func:`detect_kind` that use them.

Kinds (:data:`KINDS`, detected automatically by :func:`as_vocab`, or named with ``kind=``):

* ``list``: a plain list of tokens, row ``i`` = ``tokens[i]`` (``''`` at 0 is padding, ``[UNK]`` is special);
  this is the layout of ``TextVectorization.get_vocabulary()``.
* ``dict``: token → id, ids ``0..n-1`` (scikit-learn ``vocabulary_`` style).
* ``word_index``: a Keras-style ``word_index`` (token → id, ids ``1..n``, row 0 = padding), cut at
  ``num_words`` exactly as the legacy Keras ``Tokenizer`` does (ids ``>= num_words`` are dropped).
* ``keras``: a Keras ``TextVectorization`` / ``StringLookup`` layer (0 = padding ``''``, 1 = ``[UNK]``) or a
  legacy Keras ``Tokenizer`` (anything with ``word_index`` and ``num_words``).
* ``tokenizers``: a Hugging Face ``tokenizers.Tokenizer`` (WordPiece ``##``, byte-level BPE ``Ġ``,
  SentencePiece ``▁`` markers are decoded to the word they spell).
* ``transformers``: a Hugging Face ``transformers`` tokenizer (fast ones via their backend tokenizer).
* ``sklearn``: a fitted scikit-learn ``CountVectorizer`` / ``TfidfVectorizer`` (its ``vocabulary_``).
* ``gensim``: a ``gensim.corpora.Dictionary`` (its collection frequencies become counts).

Adding an adapter: one :class:`~embedkit.matrix.adapters.base.Adapter` subclass in a module of this package
and one line in :data:`ADAPTERS`. Detection asks the adapters in registry order.

>>> v = as_vocab(["", "[UNK]", "the", "cat"])
>>> v.kind, len(v), sorted(v.padding_ids), sorted(v.special_ids)
('list', 4, [0], [1])
>>> as_vocab({"the": 1, "cat": 2}).tokens
['', 'the', 'cat']
>>> as_vocab(["a"], specials=["b"])
Traceback (most recent call last):
...
embedkit.errors.EmbedkitError: Options of the list adapter must be among special_tokens, padding_tokens. Received: specials
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from embedkit.errors import EmbedkitError
from embedkit.matrix.adapters.base import Adapter, num_words_error, typename
from embedkit.registry import Registry, check_options
from embedkit.text.vocabulary import Vocabulary

ADAPTERS: Registry[type[Adapter]] = Registry("kind", {
    "list": "embedkit.matrix.adapters.containers:ListAdapter",
    "dict": "embedkit.matrix.adapters.containers:DictAdapter",
    "word_index": "embedkit.matrix.adapters.containers:WordIndexAdapter",
    "keras": "embedkit.matrix.adapters.keras_tokenizers:KerasAdapter",
    "tokenizers": "embedkit.matrix.adapters.hugging_face:TokenizersAdapter",
    "transformers": "embedkit.matrix.adapters.hugging_face:TransformersAdapter",
    "sklearn": "embedkit.matrix.adapters.scikit_learn:SklearnAdapter",
    "gensim": "embedkit.matrix.adapters.gensim_dictionary:GensimDictionaryAdapter",
})
KINDS = tuple(ADAPTERS.names())


def supported_types() -> list[str]:
    """What the adapters handle, in registry order (the "Expected one of: ..." of :func:`detect_kind`).

    >>> supported_types()[:2]
    ['list of tokens', 'dict token->id']
    """
    return [t for _, adapter in ADAPTERS.items() for t in adapter.supported]


def detect_kind(obj: Any) -> str:
    """Which adapter handles ``obj`` (one of :data:`KINDS`); unknown types raise a one-line error.

    >>> detect_kind({"a": 1}), detect_kind({"a": 0})
    ('word_index', 'dict')
    """
    if isinstance(obj, Vocabulary):
        return obj.kind
    for kind, adapter in ADAPTERS.items():
        if adapter().detects(obj):
            return kind
    if isinstance(obj, (str, os.PathLike)):
        raise EmbedkitError(
            f"Expected a tokenizer or vocabulary object (read a vocabulary file with read_vocab_file). "
            f"Received: {obj!r}"
        )
    raise EmbedkitError(f"Expected one of: {', '.join(supported_types())}. Received: {typename(obj)}")


def as_vocab(obj: Any, kind: str | None = None, *, num_words: int | None = None,
             special_tokens: Iterable[str] = (), padding_tokens: Iterable[str] = (), **options: Any) -> Vocabulary:
    """Adapt any supported tokenizer or vocabulary to a :class:`~embedkit.text.vocabulary.Vocabulary`.

    Args:
        obj: a tokenizer or vocabulary object of one of :data:`KINDS` (a ``Vocabulary`` is returned as is).
        kind: force an adapter instead of detecting it.
        num_words: cut a Keras ``word_index`` (or legacy Tokenizer) at this many rows.
        special_tokens / padding_tokens: more tokens to mark special / padding (``list`` and ``dict``).
        **options: options of other adapters; an option the adapter does not take raises a one-line error.

    Example:
        >>> as_vocab({"a": 0, "b": 1}).kind
        'dict'
    """
    if isinstance(obj, Vocabulary):
        return obj
    kind = detect_kind(obj) if kind is None else ADAPTERS.canonical(kind)
    adapter = ADAPTERS.get(kind)()
    given = dict(options)
    if num_words is not None:
        if "num_words" not in adapter.options:
            raise num_words_error(num_words, kind)
        given["num_words"] = num_words
    for name, tokens in (("special_tokens", special_tokens), ("padding_tokens", padding_tokens)):
        tokens = tuple(tokens)
        if tokens:
            given[name] = tokens
    check_options(f"the {kind} adapter", given, adapter.options)
    return adapter.adapt(obj, **given)
