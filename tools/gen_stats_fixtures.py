#!/usr/bin/python3
"""Writes tests/fixtures/stats/reference.json, the oracle of tests/eval/stats_test.cc.

Run with Debian's interpreter, which sees python3-scipy, python3-numpy and python3-statsmodels:

    /usr/bin/python3 tools/gen_stats_fixtures.py [--out tests/fixtures/stats/reference.json]

Every number comes from a seeded generator, so the output is byte-for-byte reproducible with the same
scipy/numpy/statsmodels versions (recorded in the file). What each section pins:

- "special": scipy.special.betainc and the two-sided Student t p-value 2*scipy.special.stdtr(df, -|t|),
  with 50-digit mpmath values beside them when python3-mpmath is installed.
- "paired": per case (vectors a, b), scipy.stats.ttest_rel(a, b); numpy's Cohen's d on a - b; and
  scipy.stats.wilcoxon(a, b, zero_method=Z, correction=C, alternative="two-sided", method=M) for every Z in
  wilcox/pratt/zsplit, C in False/True, M in auto/exact/approx (or the exception scipy raised). Every case
  with n <= 1000 carries the exact conditional Wilcoxon p-value per zero method (exact integer counting of
  the sign flips, valid with ties and zeros); cases with n <= 16 also carry scipy.stats.permutation_test's
  p-values for the Wilcoxon R+ (per zero method, asserted equal to the counts) and for mean(a - b); cases
  with at most 16 nonzero differences the exact randomization p-value (matrix enumeration).
- "corrections": statsmodels.stats.multitest.multipletests(p, method=bonferroni|holm|fdr_bh), or, when
  statsmodels is missing, the same definitions written out below (the file records which one was used).
- "randomization" and "bootstrap": rlm's Monte Carlo procedures replayed in Python (the same splitmix64
  stream, the same sampling and the same percentile rule as src/eval/stats.cc), so the C++ results can be
  compared exactly; plus independent references: exact enumeration of all sign flips, the exact bootstrap
  distribution of the mean for tiny n, and the t-test p-value for large n.
- "studentized_range": scipy.stats.studentized_range.sf and .ppf on a grid; far-tail sf values by nested
  QUADPACK quadrature of the complement; for k = 2 the closed form via Student's t (mpmath).
- "tukey_hsd": scipy.stats.tukey_hsd(*groups) per pair (i < j): mean difference, standard error, p-value and
  the 95% and 90% confidence_interval().
"""

import argparse
import itertools
import json
import math
import os
import sys
import warnings
from fractions import Fraction

import numpy as np
import scipy
import scipy.integrate
import scipy.special
import scipy.stats

try:
    import mpmath
    mpmath.mp.dps = 50
except ImportError:  # pragma: no cover - depends on the machine
    mpmath = None

try:
    import statsmodels
    from statsmodels.stats.multitest import multipletests
except ImportError:  # pragma: no cover - depends on the machine
    statsmodels = None

MASK64 = (1 << 64) - 1
DEFAULT_SEED = 0x5EED5EED5EED5EED  # kDefaultStatsSeed in src/eval/stats.h
REL_TOL_FACTOR = 1e-12  # randomization: |S| >= |S_obs| - 1e-12 * sum|d| counts as "at least as extreme"
WILCOXON_EXACT_LIMIT = 1000  # kWilcoxonExactLimit: exact conditional p-values for every case up to this n
PERMUTATION_TEST_MAX_N = 16  # scipy.stats.permutation_test enumerates 2^n swaps: up to 65536


# ---------------------------------------------------------------------------------------------------------
# JSON helpers: non-finite floats become the strings "nan", "inf", "-inf" (JSON has no such numbers).

def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def nums(xs):
    return [num(x) for x in xs]


# ---------------------------------------------------------------------------------------------------------
# rlm's PRNG and Monte Carlo procedures, replayed.

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform_index(self, n):
        """Lemire's multiply-and-reject: unbiased in [0, n)."""
        m = self.next() * n
        low = m & MASK64
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                m = self.next() * n
                low = m & MASK64
        return m >> 64


def seq_sum(values):
    s = 0.0
    for v in values:
        s += v
    return s


EXACT_MAX_NONZERO = 20  # kRandomizationExactMaxNonzero in src/eval/stats.h


def signed_sums_in_order(values):
    """For every mask (bit i set = value i flipped), the signed sum in index order, vectorized over masks:
    each entry is the same sequence of IEEE additions the C++ loop performs."""
    size = len(values)
    masks = np.arange(1 << size, dtype=np.int64)
    acc = np.zeros(1 << size, dtype=np.float64)
    for i, x in enumerate(values):
        acc = acc + np.where((masks >> i) & 1, -x, x)
    return acc


def rlm_randomization(d, permutations, seed):
    """Returns (p, exact) as src/eval/stats.cc computes them."""
    nz = [float(x) for x in d if x != 0.0]
    m = len(nz)
    observed = abs(seq_sum(nz))
    tol = REL_TOL_FACTOR * seq_sum(abs(x) for x in nz)
    threshold = observed - tol
    if m <= EXACT_MAX_NONZERO or (m < 63 and (1 << m) <= permutations):
        h = (m + 1) // 2
        low = signed_sums_in_order(nz[:h])
        high = signed_sums_in_order(nz[h:])
        count = 0
        for hi in high:
            count += int(np.sum(np.abs(hi + low) >= threshold))
        return count / float(1 << m), True
    rng = SplitMix64(seed)
    count = 0
    for _ in range(permutations):
        s = 0.0
        word = 0
        for i, x in enumerate(nz):
            if i % 64 == 0:
                word = rng.next()
            s += -x if (word >> (i % 64)) & 1 else x
        if abs(s) >= threshold:
            count += 1
    return (count + 1) / float(permutations + 1), False


def numpy_linear_quantile(sorted_values, q):
    """numpy.percentile(..., method='linear') on sorted data, written out as in rlm."""
    n = len(sorted_values)
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    g = h - lo
    a, b = sorted_values[lo], sorted_values[hi]
    return a + g * (b - a)


def rlm_bootstrap(values, resamples, confidence, seed):
    n = len(values)
    rng = SplitMix64(seed)
    means = []
    for _ in range(resamples):
        s = 0.0
        for _ in range(n):
            s += values[rng.uniform_index(n)]
        means.append(s / n)
    means.sort()
    alpha = 1.0 - confidence
    return numpy_linear_quantile(means, alpha / 2), numpy_linear_quantile(means, 1 - alpha / 2)


# ---------------------------------------------------------------------------------------------------------
# Independent references.

def exact_randomization(d):
    """P(|sum s_i d_i| >= |sum d_i|) over all 2^m sign vectors of the m nonzero differences (matrix
    products, in chunks of 2^14 sign vectors)."""
    nz = np.array([x for x in d if x != 0.0], dtype=np.float64)
    m = len(nz)
    if m == 0:
        return 1.0
    tol = REL_TOL_FACTOR * float(np.sum(np.abs(nz)))
    threshold = abs(float(np.sum(nz))) - tol
    count = 0
    chunk = 1 << 14
    for start in range(0, 1 << m, chunk):
        masks = np.arange(start, min(start + chunk, 1 << m), dtype=np.int64)
        signs = 1.0 - 2.0 * ((masks[:, None] >> np.arange(m)[None, :]) & 1)
        count += int(np.sum(np.abs(signs @ nz) >= threshold))
    return count / float(1 << m)


def wilcoxon_doubled_ranks(d, zero_method):
    """(doubled ranks of the nonzero differences, doubled R+ without the zeros' share) under a zero method:
    wilcox ranks the nonzero |d| alone, pratt and zsplit rank every |d| (zeros get the lowest ranks)."""
    d = np.asarray(d, dtype=np.float64)
    if zero_method == "wilcox":
        d = d[d != 0]
    ranks2 = np.rint(2 * scipy.stats.rankdata(np.abs(d))).astype(np.int64)  # doubled ranks: integers
    w = [int(r) for r, x in zip(ranks2, d) if x != 0]
    observed = int(sum(int(r) for r, x in zip(ranks2, d) if x > 0))
    return w, observed


def exact_conditional_wilcoxon(d, zero_method):
    """Two-sided exact p of R+ given the observed (tied) ranks and zeros, min(1, 2 min(P(<=), P(>=))), by
    exact integer counting: the generating function prod_i (1 + x^w_i) evaluated at x = 2^B as one Python
    integer (B bits hold any count < 2^m), so no floating point is involved."""
    w, observed = wilcoxon_doubled_ranks(d, zero_method)
    m = len(w)
    total = sum(w)
    nbytes = m // 8 + 1
    bits = 8 * nbytes
    poly = 1
    for x in w:
        poly += poly << (x * bits)
    raw = poly.to_bytes((total + 1) * nbytes, "little")
    counts = [int.from_bytes(raw[i * nbytes:(i + 1) * nbytes], "little") for i in range(total + 1)]
    le = sum(counts[:observed + 1])
    ge = sum(counts[observed:])
    return float(min(Fraction(1), Fraction(2 * min(le, ge), 1 << m)))


def scipy_permutation_wilcoxon(a, b, zero_method):
    """scipy.stats.permutation_test over all 2^n swaps of the pairs, statistic R+ (with zsplit's constant
    half of the zeros' rank sum). The ranks depend on |a - b| only, which a swap keeps."""
    d = a - b
    if zero_method == "wilcox":
        ranks = np.zeros(len(d))
        ranks[d != 0] = scipy.stats.rankdata(np.abs(d[d != 0]))
    else:
        ranks = scipy.stats.rankdata(np.abs(d))
    shift = float(np.sum(ranks[d == 0])) / 2 if zero_method == "zsplit" else 0.0

    def r_plus(x, y, axis):
        return np.sum(ranks * ((x - y) > 0), axis=axis) + shift

    res = scipy.stats.permutation_test((a, b), r_plus, permutation_type="samples", vectorized=True,
                                       n_resamples=np.inf, alternative="two-sided", batch=1 << 14)
    return float(res.pvalue)


def scipy_permutation_randomization(a, b):
    """scipy.stats.permutation_test over all 2^n swaps of the pairs, statistic mean(a - b)."""
    def mean_difference(x, y, axis):
        return np.mean(x - y, axis=axis)

    res = scipy.stats.permutation_test((a, b), mean_difference, permutation_type="samples", vectorized=True,
                                       n_resamples=np.inf, alternative="two-sided", batch=1 << 14)
    return float(res.pvalue)


def corrections_by_hand(p, method):
    """statsmodels 0.13 multipletests' definitions, for machines without statsmodels."""
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p)
    ps = p[order]
    m = len(ps)
    if method == "bonferroni":
        adj = ps * float(m)
    elif method == "holm":
        adj = np.maximum.accumulate(ps * np.arange(m, 0, -1))
    elif method == "fdr_bh":
        adj = np.minimum.accumulate((ps / (np.arange(1, m + 1) / float(m)))[::-1])[::-1]
    else:
        raise ValueError(method)
    adj[adj > 1] = 1
    out = np.empty_like(adj)
    out[order] = adj
    return out


def corrections(p, method):
    if statsmodels is not None:
        return multipletests(p, method=method)[1]
    return corrections_by_hand(p, method)


# ---------------------------------------------------------------------------------------------------------
# Case generation.

def ndcg_like(rng, n, quality):
    """Per-query nDCG@10 of a single relevant document found at rank r (or not at all): many exact ties."""
    out = []
    for _ in range(n):
        if rng.random() < quality:
            r = int(rng.geometric(0.45))
            out.append(1.0 / math.log2(r + 1) if r <= 10 else 0.0)
        else:
            out.append(0.0)
    return np.array(out)


def ndcg_pair(rng, n):
    a = ndcg_like(rng, n, 0.7)
    b = a.copy()
    change = rng.random(n) < 0.45
    b[change] = ndcg_like(rng, int(change.sum()), 0.78)
    return a, b


def make_cases():
    rng = np.random.default_rng(20240611)
    cases = []

    def add(name, a, b):
        cases.append((name, np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))

    sizes = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 20, 25, 30, 40, 49, 50, 51, 60, 80, 100, 150, 200,
             300]
    for n in sizes:
        a = rng.normal(0.5, 0.2, n)
        add(f"normal_shift_n{n}", a, a - rng.normal(0.05, 0.1, n))
    for n in [2, 5, 10, 20, 50, 120, 300]:
        add(f"normal_null_n{n}", rng.normal(0, 1, n), rng.normal(0, 1, n))
    for n in [3, 8, 17, 45, 90, 250]:
        add(f"uniform_scores_n{n}", rng.random(n), rng.random(n))
    for n in [5, 12, 30, 75, 200]:
        add(f"heavy_tail_n{n}", rng.standard_t(1.2, n), rng.standard_t(1.2, n) * 0.5)
    for n in [6, 14, 40, 100]:
        add(f"cauchy_n{n}", rng.standard_cauchy(n), np.zeros(n))
    for n in [10, 25, 60]:
        add(f"skewed_n{n}", rng.exponential(1.0, n), rng.exponential(0.8, n))
    # Ties and zeros: values on a 0.1 grid (the differences of grid values tie exactly only when computed
    # from the same operands, as in rlm), and small-integer differences given as a - 0 (exact).
    for n in [4, 7, 10, 15, 20, 30, 50, 51, 80, 150, 300]:
        add(f"int_ties_zeros_n{n}", rng.integers(-3, 4, n).astype(float), np.zeros(n))
    for n in [6, 12, 24, 48, 96]:
        add(f"grid_ties_n{n}", np.round(rng.random(n), 1), np.round(rng.random(n), 1))
    for n in [5, 9, 16, 30, 55]:
        add(f"int_ties_nozero_n{n}", rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0, 4.0], n), np.zeros(n))
    # Realistic: per-query nDCG@10 of two retrieval variants.
    for n in [8, 16, 30, 50, 100, 300]:
        a, b = ndcg_pair(rng, n)
        add(f"ndcg_n{n}", a, b)
    # Degenerate and special.
    add("identical_n10", np.linspace(0, 1, 10), np.linspace(0, 1, 10))
    add("identical_n2", [0.25, 0.75], [0.25, 0.75])
    add("constant_shift_exact_n6", [3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    add("one_nonzero_n5", [1.0, 2.0, 3.0, 4.0, 5.5], [1.0, 2.0, 3.0, 4.0, 5.0])
    add("tiny_n2", [0.9, 0.1], [0.2, 0.4])
    add("tiny_n3", [1.0, 2.0, 3.5], [0.5, 2.5, 1.0])
    add("tiny_scale_n12", rng.normal(0, 1e-9, 12) + 1e-10, np.zeros(12))
    add("large_offset_n20", 1e6 + rng.normal(0, 1, 20), 1e6 + rng.normal(0.3, 1, 20))
    add("all_positive_n20", rng.random(20) + 0.1, np.zeros(20))
    add("all_positive_n60", rng.random(60) + 0.1, np.zeros(60))
    add("strong_effect_n300", rng.normal(1.0, 0.3, 300), rng.normal(0.0, 0.3, 300))
    return cases


def scipy_call(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(), None
        except ValueError as e:
            return None, f"ValueError: {e}"


def paired_entry(name, a, b):
    d = a - b
    nz = d[d != 0]
    absnz = np.abs(nz)
    entry = {
        "name": name,
        "a": nums(a),
        "b": nums(b),
        "n": len(a),
        "n_zero": int(np.sum(d == 0)),
        "ties": bool(len(np.unique(absnz)) < len(absnz)),
        "mean_a": num(np.mean(a)),
        "mean_b": num(np.mean(b)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = scipy.stats.ttest_rel(a, b)
        entry["ttest"] = {"statistic": num(t.statistic), "pvalue": num(t.pvalue), "df": len(a) - 1}
        entry["cohens_d"] = num(np.mean(d) / np.std(d, ddof=1))
    calls = []
    for zero_method in ["wilcox", "pratt", "zsplit"]:
        for correction in [False, True]:
            for method in ["auto", "exact", "approx"]:
                res, err = scipy_call(lambda: scipy.stats.wilcoxon(
                    a, b, zero_method=zero_method, correction=correction, alternative="two-sided",
                    method=method))
                call = {"zero_method": zero_method, "correction": correction, "method": method}
                if err is not None:
                    call["error"] = err
                else:
                    call["statistic"] = num(res.statistic)
                    call["pvalue"] = num(res.pvalue)
                calls.append(call)
    entry["wilcoxon"] = calls
    if len(nz) > 0 and len(a) <= WILCOXON_EXACT_LIMIT:
        entry["wilcoxon_exact_conditional"] = {
            zm: num(exact_conditional_wilcoxon(d, zm)) for zm in ["wilcox", "pratt", "zsplit"]}
    if len(nz) > 0 and len(a) <= PERMUTATION_TEST_MAX_N:
        scipy_p = {zm: scipy_permutation_wilcoxon(a, b, zm) for zm in ["wilcox", "pratt", "zsplit"]}
        for zm, p in scipy_p.items():  # two independent computations of one distribution
            ours = entry["wilcoxon_exact_conditional"][zm]
            assert abs(p - ours) <= 1e-12 * ours, (name, zm, p, ours)
        entry["wilcoxon_permutation_test"] = {zm: num(p) for zm, p in scipy_p.items()}
        entry["randomization_permutation_test"] = num(scipy_permutation_randomization(a, b))
    if len(nz) <= 16:
        entry["randomization_exact"] = num(exact_randomization(d))
    return entry


def special_entries():
    """scipy's values, and mpmath's at 50 digits where Debian's python3-mpmath is installed: scipy's
    betainc itself is off by a few 1e-12 for a in the thousands."""
    betainc = []
    for a in [0.5, 1.0, 2.5, 10.0, 75.0, 150.0, 5000.0]:
        for b in [0.5, 1.0, 3.0, 40.0]:
            for x in [1e-12, 1e-4, 0.01, 0.2, 0.5, 0.8, 0.97, 0.999, 1 - 1e-9]:
                e = {"a": a, "b": b, "x": x, "value": num(scipy.special.betainc(a, b, x))}
                if mpmath is not None:
                    e["mpmath"] = num(mpmath.betainc(a, b, 0, mpmath.mpf(x), regularized=True))
                betainc.append(e)
    tcdf = []
    for df in [1, 2, 3, 4, 7, 10, 29, 49, 99, 299, 999, 10000]:
        for t in [0.0, 1e-8, 0.01, 0.3, 1.0, 1.96, 2.5, 4.0, 8.0, 20.0, 60.0, 300.0]:
            p = 2 * scipy.special.stdtr(df, -abs(t))
            e = {"t": t, "df": df, "p": num(p)}
            if mpmath is not None:
                t2 = mpmath.mpf(t) ** 2
                e["mpmath"] = num(mpmath.betainc(df / 2.0, 0.5, 0, df / (df + t2), regularized=True))
            tcdf.append(e)
    return {"betainc": betainc, "t_two_sided": tcdf}


def correction_entries(paired):
    rng = np.random.default_rng(99)
    lists = [
        [0.01],
        [0.5, 0.5],
        [0.0, 1.0, 0.5],
        [0.01, 0.02, 0.03, 0.04, 0.05],
        [0.05, 0.04, 0.03, 0.02, 0.01],
        [0.2, 0.01, 0.2, 0.01, 0.7, 0.2, 1.0, 0.0],
        [1e-300, 1e-10, 0.049, 0.051, 0.9999],
        [0.3] * 7,
    ]
    for m in [3, 10, 25, 50, 200]:
        lists.append(list(rng.random(m)))
        lists.append(list(rng.beta(0.3, 3.0, m)))  # many small p-values
        lists.append(list(np.round(rng.random(m), 2)))  # ties
    lists.append([c["ttest"]["pvalue"] for c in paired if isinstance(c["ttest"]["pvalue"], float)])
    out = []
    for p in lists:
        p = np.asarray(p, dtype=np.float64)
        out.append({
            "p": nums(p),
            "bonferroni": nums(corrections(p, "bonferroni")),
            "holm": nums(corrections(p, "holm")),
            "bh": nums(corrections(p, "fdr_bh")),
        })
    return out


def randomization_entries(cases_by_name):
    out = []
    # (a) exact enumeration (2^m <= permutations), (b) Monte Carlo replayed; `reference` is independent:
    # the exact p over all 2^m sign vectors when m is small, the t-test p-value otherwise.
    plan = [
        ("dyadic_ties_zeros_n10", 1000, DEFAULT_SEED),
        ("dyadic_n13", 10000, DEFAULT_SEED),
        ("normal_shift_n8", 10000, DEFAULT_SEED),
        ("int_ties_zeros_n15", 10000, DEFAULT_SEED),
        ("grid_ties_n12", 10000, 7),
        ("normal_shift_n15", 10000, DEFAULT_SEED),
        ("normal_shift_n16", 10000, 12345),
        ("uniform_scores_n17", 5000, DEFAULT_SEED),
        ("normal_shift_n20", 1000, DEFAULT_SEED),  # exact although 2^20 > 1000: m <= EXACT_MAX_NONZERO
        ("normal_shift_n25", 1000, DEFAULT_SEED),  # Monte Carlo: m = 25
        ("ndcg_n16", 10000, DEFAULT_SEED),
        ("identical_n10", 10000, DEFAULT_SEED),
        ("ndcg_n100", 10000, DEFAULT_SEED),
        ("normal_shift_n100", 10000, DEFAULT_SEED),
        ("normal_null_n120", 10000, 42),
        ("normal_shift_n300", 2000, DEFAULT_SEED),
        ("normal_null_n300", 4000, 3),
    ]
    for name, permutations, seed in plan:
        a, b = cases_by_name[name]
        d = a - b
        p, exact = rlm_randomization(list(d), permutations, seed)
        m = int(np.sum(d != 0))
        entry = {"name": name, "a": nums(a), "b": nums(b), "permutations": permutations, "seed": seed,
                 "p_value": num(p), "exact": exact}
        if m <= EXACT_MAX_NONZERO:
            entry["reference"] = num(exact_randomization(d))
            entry["reference_kind"] = "exact_enumeration"
        else:
            entry["reference"] = num(scipy.stats.ttest_rel(a, b).pvalue)
            entry["reference_kind"] = "ttest_rel"
        out.append(entry)
    return out


def bootstrap_entries(cases_by_name):
    out = []
    plan = [
        ("tiny_n3", 10000, 0.95, DEFAULT_SEED),
        ("normal_shift_n5", 10000, 0.95, DEFAULT_SEED),
        ("int_ties_zeros_n7", 10000, 0.95, 11),
        ("ndcg_n30", 5000, 0.9, DEFAULT_SEED),
        ("normal_shift_n100", 4000, 0.95, DEFAULT_SEED),
        ("ndcg_n300", 2000, 0.95, 5),
    ]
    for name, resamples, confidence, seed in plan:
        a, b = cases_by_name[name]
        entry = {"name": name, "a": nums(a), "b": nums(b), "resamples": resamples,
                 "confidence": confidence, "seed": seed}
        for key, values in [("difference", a - b), ("mean_a", a)]:
            values = [float(v) for v in values]
            low, high = rlm_bootstrap(values, resamples, confidence, seed)
            sub = {"low": num(low), "high": num(high), "estimate": num(np.mean(values))}
            n = len(values)
            alpha = 1 - confidence
            if n ** n <= 1_000_000:
                # The exact bootstrap distribution of the mean: all n^n equally likely index tuples.
                idx = np.array(list(itertools.product(range(n), repeat=n)))
                means = np.sort(np.asarray(values)[idx].mean(axis=1))
                # A bracket of the exact quantile: [Q(q - 0.01), Q(q + 0.01)] with Q the inverse CDF. The
                # Monte Carlo quantile's error, about sqrt(q(1-q)/resamples) in probability, is far smaller.
                def bracket(q):
                    return nums(np.quantile(means, [q - 0.01, q + 0.01], method="inverted_cdf"))
                sub["exact_low_bracket"] = bracket(alpha / 2)
                sub["exact_high_bracket"] = bracket(1 - alpha / 2)
            else:
                # Normal theory: mean +- z * sd_pop / sqrt(n) (the bootstrap's standard error).
                z = scipy.stats.norm.ppf(1 - alpha / 2)
                se = np.std(values, ddof=0) / math.sqrt(n)
                sub["normal_low"] = num(np.mean(values) - z * se)
                sub["normal_high"] = num(np.mean(values) + z * se)
                sub["standard_error"] = num(se)
            entry[key] = sub
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------------------
# Tukey's HSD and the studentized range distribution.

def quadpack_studentized_range_sf(q, k, df):
    """P(Q > q) by nested QUADPACK quadrature (scipy.integrate.quad, epsrel 1e-13) of the complement, the
    integrand of src/eval/stats.cc's StudentizedRangeSurvival written independently: over the scale s, the
    density of sqrt(chi2_df/df) times k * integral phi(z) [Phi(z)^(k-1) - (Phi(z) - Phi(z - q s))^(k-1)] dz,
    the bracket computed as -Phi(z)^(k-1) expm1((k-1) log1p(-Phi(z - w)/Phi(z))) to keep tiny values."""
    def ncdf(x):
        return 0.5 * math.erfc(-x / math.sqrt(2))

    def range_sf(w):
        def f(z):
            a = ncdf(z)
            if a == 0:
                return 0.0
            r = ncdf(z - w) / a
            bracket = -a ** (k - 1) * math.expm1((k - 1) * math.log1p(-r)) if r < 1 else a ** (k - 1)
            return math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * bracket
        return k * scipy.integrate.quad(f, -12, 12, points=[w / 2], epsabs=0, epsrel=1e-13, limit=500)[0]

    log_const = math.log(2) + (df / 2) * math.log(df / 2) - math.lgamma(df / 2)

    def outer(x):
        if x <= 0:
            return 0.0
        return math.exp(log_const + (df - 1) * math.log(x) - df * x * x / 2) * range_sf(q * x)

    mode = math.sqrt((df - 1) / df) if df > 1 else 0.0
    width = 1 / math.sqrt(2 * df)
    upper = mode + 40 * width + 10
    return scipy.integrate.quad(outer, 0, upper, points=[mode], epsabs=0, epsrel=1e-12, limit=500)[0]


def studentized_range_entries():
    sf = []
    for k in [2, 3, 5, 10, 20]:
        for df in [1, 3, 10, 30, 200, 5000]:
            for q in [0.5, 2.0, 3.5, 5.0, 8.0, 12.0]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sf.append({"q": q, "k": k, "df": df,
                               "sf": num(scipy.stats.studentized_range.sf(q, k, df))})
    ppf = []
    for k in [2, 3, 5, 10]:
        for df in [2, 20, 500]:
            for p in [0.95, 0.99]:
                ppf.append({"p": p, "k": k, "df": df, "q": num(scipy.stats.studentized_range.ppf(p, k, df))})
    # Far tails, where scipy's sf = 1 - cdf has only its quadrature's absolute accuracy (about 1e-11).
    tail = []
    for q, k, df in [(3.0, 3, 10), (6.0, 3, 20), (8.0, 5, 60), (12.0, 4, 200), (15.0, 3, 1000),
                     (9.0, 3, 500), (10.0, 10, 30), (5.0, 20, 5), (7.5, 6, 3000)]:
        tail.append({"q": q, "k": k, "df": df, "sf": num(quadpack_studentized_range_sf(q, k, df))})
    # k = 2: Q = sqrt(2) |T_df|, so P(Q > q) = P(|T_df| > q / sqrt(2)), at 50 digits with mpmath.
    two = []
    if mpmath is not None:
        for q in [0.5, 2.0, 5.0, 9.0, 14.0]:
            for df in [1, 4, 25, 300, 5000]:
                t2 = (mpmath.mpf(q) / mpmath.sqrt(2)) ** 2
                two.append({"q": q, "df": df,
                            "sf": num(mpmath.betainc(df / 2.0, 0.5, 0, df / (df + t2), regularized=True))})
    return {"sf": sf, "ppf": ppf, "quadpack_sf": tail, "k2_student_t": two}


def tukey_entries():
    rng = np.random.default_rng(4321)
    sets = [
        ("two_groups_n10", [rng.normal(0.5, 0.2, 10), rng.normal(0.6, 0.2, 10)]),
        ("ndcg_k3_n50", [ndcg_like(rng, 50, q) for q in [0.6, 0.7, 0.75]]),
        ("normal_k5_n30", [rng.normal(mu, 1.0, 30) for mu in [0.0, 0.2, 0.5, 0.6, 1.5]]),
        ("unequal_k4", [rng.normal(mu, 1.0, n) for mu, n in [(0.0, 5), (0.4, 8), (1.0, 12), (2.0, 20)]]),
        ("int_ties_k3_n12", [rng.integers(0, 4, 12).astype(float) for _ in range(3)]),
        ("uniform_k10_n100", [rng.random(100) + 0.02 * i for i in range(10)]),
        ("strong_k3_n300", [rng.normal(mu, 0.3, 300) for mu in [0.0, 0.1, 0.5]]),
        ("small_k6_n3", [rng.normal(mu, 0.5, 3) for mu in range(6)]),
    ]
    out = []
    for name, groups in sets:
        res = scipy.stats.tukey_hsd(*groups)
        k = len(groups)
        entry = {"name": name, "groups": [nums(g) for g in groups], "pairs": []}
        cis = {cl: res.confidence_interval(confidence_level=cl) for cl in [0.95, 0.9]}
        for i in range(k):
            for j in range(i + 1, k):
                pair = {"i": i, "j": j, "mean_difference": num(res.statistic[i, j]),
                        "p_value": num(res.pvalue[i, j]),
                        "standard_error": num(np.broadcast_to(res._stand_err, (k, k))[i, j])}
                for cl, ci in cis.items():
                    pair[f"ci_{int(round(cl * 100))}"] = [num(ci.low[i, j]), num(ci.high[i, j])]
                entry["pairs"].append(pair)
        out.append(entry)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "tests/fixtures/stats/reference.json"))
    args = parser.parse_args()

    cases = make_cases()
    # Exact dyadic data for the enumeration cases: every partial sum is exact, so "as extreme" is exact.
    rng = np.random.default_rng(77)
    extra = [
        ("dyadic_ties_zeros_n10", rng.integers(-8, 9, 10) / 64.0, np.zeros(10)),
        ("dyadic_n13", rng.integers(-40, 60, 13) / 1024.0, np.zeros(13)),
    ]
    cases += [(n, np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)) for n, a, b in extra]
    cases_by_name = {name: (a, b) for name, a, b in cases}
    paired = [paired_entry(name, a, b) for name, a, b in cases]

    doc = {
        "generator": "tools/gen_stats_fixtures.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__ if statsmodels is not None else None,
            "mpmath": mpmath.__version__ if mpmath is not None else None,
        },
        "corrections_oracle": "statsmodels.stats.multitest.multipletests" if statsmodels is not None
        else "corrections_by_hand (statsmodels 0.13 definitions)",
        "default_seed": DEFAULT_SEED,
        "special": special_entries(),
        "paired": paired,
        "corrections": correction_entries(paired),
        "randomization": randomization_entries(cases_by_name),
        "bootstrap": bootstrap_entries(cases_by_name),
        "studentized_range": studentized_range_entries(),
        "tukey_hsd": tukey_entries(),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: {len(paired)} paired cases, {len(doc['corrections'])} correction lists, "
          f"{len(doc['randomization'])} randomization and {len(doc['bootstrap'])} bootstrap cases")


if __name__ == "__main__":
    main()
