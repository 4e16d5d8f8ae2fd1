"""Tokenizer adapters: turn any supported tokenizer or vocabulary into a :class:`~embedkit.text.vocabulary.Vocabulary`.

- :mod:`~embedkit.matrix.adapters.registry`: :data:`ADAPTERS` (kind → adapter class), :func:`as_vocab`,
  :func:`detect_kind`;
- :mod:`~embedkit.matrix.adapters.base`: the :class:`Adapter` base class and shared checks;
- one module per family: :mod:`~embedkit.matrix.adapters.containers` (list, dict, word_index),
  :mod:`~embedkit.matrix.adapters.keras_tokenizers`, :mod:`~embedkit.matrix.adapters.hugging_face`
  (tokenizers, transformers), :mod:`~embedkit.matrix.adapters.scikit_learn`,
  :mod:`~embedkit.matrix.adapters.gensim_dictionary`;
- :mod:`~embedkit.matrix.adapters.vocab_sources`: :func:`read_vocab_file`, :func:`vocab_from_texts`.

None of them imports the library it adapts: they read the objects they are given.

>>> as_vocab(["", "cat"]).kind
'list'
"""

from __future__ import annotations

from embedkit.matrix.adapters.base import Adapter
from embedkit.matrix.adapters.registry import ADAPTERS, KINDS, as_vocab, detect_kind, supported_types
from embedkit.matrix.adapters.vocab_sources import read_text_lines, read_vocab_file, vocab_from_texts

__all__ = ["ADAPTERS", "KINDS", "Adapter", "as_vocab", "detect_kind", "read_text_lines", "read_vocab_file",
           "supported_types", "vocab_from_texts"]
