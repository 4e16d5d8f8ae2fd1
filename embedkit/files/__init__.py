"""Files embedkit reads and writes, whatever the stage: atomic writes and downloads.

- :mod:`embedkit.files.atomic`: temp file + rename for every output.
- :mod:`embedkit.files.download`: resumable, checked downloads.
"""
