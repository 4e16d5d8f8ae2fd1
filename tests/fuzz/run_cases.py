"""Run the fuzz table and print totals per family: tried / clean / tracebacks / data loss / leftovers.

    python tests/fuzz/run_cases.py [--family NAME] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import all_cases  # noqa: E402
from runner import run_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    totals: dict[str, Counter] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(all_cases()):
            if args.family and case.family != args.family:
                continue
            o = run_case(case, Path(tmp) / f"c{i}", Path(tmp) / f"h{i}")
            t = totals.setdefault(case.family, Counter())
            t["tried"] += 1
            t["clean"] += o.clean
            t["tracebacks"] += "traceback on stderr" in o.problems
            t["data loss"] += any(p.startswith(("deleted", "changed")) for p in o.problems)
            t["leftovers"] += any(p.startswith("left") or "process" in p for p in o.problems)
            if not o.clean and args.verbose:
                print(f"FAIL {case.family}: {case.name}: {o.problems} | {o.stderr.strip().splitlines()[-1:]}")
    cols = ["tried", "clean", "tracebacks", "data loss", "leftovers"]
    print(f"{'family':<14}" + "".join(f"{c:>12}" for c in cols))
    for fam, t in totals.items():
        print(f"{fam:<14}" + "".join(f"{t[c]:>12}" for c in cols))
    all_t = sum(totals.values(), Counter())
    print(f"{'total':<14}" + "".join(f"{all_t[c]:>12}" for c in cols))


if __name__ == "__main__":
    main()
