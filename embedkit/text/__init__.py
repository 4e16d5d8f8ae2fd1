"""Text processing shared by training, embedding matrices and downstream evaluation.

- :mod:`embedkit.text.tokenizer`: :class:`~embedkit.text.tokenizer.Tokenizer`, the regex word tokenizer.
- :mod:`embedkit.text.vocabulary`: :class:`~embedkit.text.vocabulary.Vocabulary`, tokens by id.
"""
