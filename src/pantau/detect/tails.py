"""Tail probabilities: how surprising is an observation given what was expected.

All detectors in this package reduce an observation to an upper-tail probability
`p` and report `surprise = -log10(p)`; the state machine and thresholds work on that
one scale, whatever the data (counts or arbitrary values).
"""

from __future__ import annotations

import math

from scipy.special import betainc

# p is never reported below this: beyond it every difference is "certainly anomalous",
# and it keeps surprise finite.
MIN_P = 1e-12
MAX_SURPRISE = -math.log10(MIN_P)


def surprise(p: float) -> float:
    """-log10(p), clipped to [0, MAX_SURPRISE]."""
    return -math.log10(min(1.0, max(MIN_P, p)))


def nb_upper(observed: float, mean: float, dispersion: float) -> float:
    """P(X >= observed) for a negative binomial with this mean and Var = mean + d·mean².

    Small counts are where a Gaussian z-score lies: 3 reports when 0.2 were expected
    is rare, and the negative binomial says how rare, while allowing the extra spread
    that real report counts have (dispersion `d`; d → 0 is Poisson).
    """
    if observed <= 0:
        return 1.0
    mean = max(mean, 1e-6)
    if dispersion <= 1e-9:
        # Poisson: P(X >= k) = P(Gamma(k) <= mean) = regularized lower gamma.
        from scipy.special import gammainc

        return float(gammainc(math.ceil(observed), mean))
    size = 1.0 / dispersion
    prob = size / (size + mean)
    # P(X >= k) = I_{1-prob}(k, size) for the NB(size, prob) count of failures.
    return float(betainc(math.ceil(observed), size, 1.0 - prob))


def gauss_upper(z: float) -> float:
    """P(Z >= z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))
