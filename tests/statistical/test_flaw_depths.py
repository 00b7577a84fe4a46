"""MODEL.md 10.3: flaw depths drawn per flaw follow the deck's distribution (log-normal or
Weibull, ``depth`` the median), before rounding to whole sites."""
import math

import numpy as np
import pytest
from scipy import stats

from kmc.features import sample_flaw_depths

MEDIAN = 3e-6  # m, inside the 1-10 um of LLZO surface flaws (seed 001)
CASES = [("lognormal", 0.6, stats.lognorm(0.6, scale=MEDIAN)),
         ("weibull", 3.0, stats.weibull_min(3.0, scale=MEDIAN / math.log(2.0) ** (1 / 3.0)))]


@pytest.mark.parametrize("kind,spread,dist", CASES, ids=[c[0] for c in CASES])
def test_drawn_depths_pass_a_ks_test(kind, spread, dist):
    """One-sample KS test of 2000 continuous draws against the distribution (scipy's exact
    p-value for a continuous law, uniform under H0): accepted if p > 1e-4, so the false-failure
    probability is 1e-4 per case."""
    a = sample_flaw_depths(np.random.default_rng(11), 2000, kind, MEDIAN, spread)
    assert stats.kstest(a, dist.cdf).pvalue > 1e-4


@pytest.mark.parametrize("kind,spread", [(k, s) for k, s, _ in CASES], ids=[c[0] for c in CASES])
def test_depth_is_the_median(kind, spread):
    """The number of 2000 draws below ``depth`` is Binomial(2000, 1/2): accepted within
    1000 +- 87, false-failure probability 9.0e-5 (computed below from the binomial law)."""
    n, band = 2000, 87
    false_failure = stats.binom.cdf(n // 2 - band - 1, n, 0.5) + stats.binom.sf(n // 2 + band, n, 0.5)
    assert false_failure <= 1e-4
    below = np.count_nonzero(sample_flaw_depths(np.random.default_rng(12), n, kind, MEDIAN,
                                                spread) < MEDIAN)
    assert abs(below - n // 2) <= band
