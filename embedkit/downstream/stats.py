"""Paired comparisons of two sets of runs made on the same splits with the same seeds.

:func:`paired_difference` gives the mean difference, its 95 % confidence interval from a paired t-test over
the runs, wins / losses / ties and the two-sided p-value. Runs of k-fold CV share most of their training data,
so the plain t interval is optimistic; with ``test_share`` (test / train size of one split) the interval
corrected for that overlap (Nadeau & Bengio 2003) is given too.

>>> d = paired_difference([0.80, 0.82, 0.79, 0.81], [0.70, 0.71, 0.72, 0.69])
>>> round(d.mean, 3), d.wins, d.n, d.ci_low > 0
(0.1, 4, 4, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from embedkit.errors import EmbedkitError


@dataclass
class PairedDifference:
    """``a - b`` over paired runs (fractions: 0.01 is one accuracy point).

    Attributes:
        n: pairs; mean / std: of the differences; ci_low / ci_high: 95 % paired-t interval (None below 2 pairs);
        ci_corrected_low / ci_corrected_high: the interval corrected for overlapping training sets (CV only);
        wins / losses / ties: pairs where ``a`` is above / below / equal to ``b``; p_value: two-sided paired t.
    """

    n: int
    mean: float
    std: float
    ci_low: float | None
    ci_high: float | None
    wins: int
    losses: int
    ties: int
    p_value: float | None
    ci_corrected_low: float | None = None
    ci_corrected_high: float | None = None

    @property
    def excludes_zero(self) -> bool:
        """The 95 % interval lies entirely above or below 0."""
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {**asdict(self), "excludes_zero": self.excludes_zero}


def paired_difference(a: Sequence[float], b: Sequence[float], *, test_share: float | None = None,
                      confidence: float = 0.95) -> PairedDifference:
    """The paired difference ``a[i] - b[i]`` with a ``confidence`` interval (paired t over the runs).

    Args:
        a, b: one score per run, in the same order (same split and seed at each position).
        test_share: test size / training size of one split (k-fold CV: about 1 / (k - 1)); adds the
            Nadeau-Bengio corrected interval.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise EmbedkitError(f"Paired runs must be two equal, non-empty lists. Received: {len(x)} and {len(y)} runs")
    d = x - y
    n = len(d)
    mean = float(d.mean())
    std = float(d.std(ddof=1)) if n > 1 else 0.0
    wins, losses = int((d > 1e-12).sum()), int((d < -1e-12).sum())
    lo = hi = p = clo = chi = None
    if n > 1:
        from scipy import stats

        q = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
        se = std / math.sqrt(n)
        lo, hi = mean - q * se, mean + q * se
        if se > 0:
            p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
        else:
            p = 0.0 if mean != 0 else 1.0
        if test_share is not None and test_share > 0:
            se_c = std * math.sqrt(1.0 / n + test_share)
            clo, chi = mean - q * se_c, mean + q * se_c
    return PairedDifference(n, mean, std, lo, hi, wins, losses, n - wins - losses, p, clo, chi)
