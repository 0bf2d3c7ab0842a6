#!/usr/bin/python3
"""Writes tests/fixtures/pairing/cases.json, the oracle of tests/eval/results_test.cc (src/eval/results,
src/eval/comparison): random evaluations in which variants retrieve nothing for some queries and fail on
others, with what trec_eval -c and scipy say of them.

    /usr/bin/python3 tools/gen_pairing_fixtures.py TREC_EVAL [--out tests/fixtures/pairing/cases.json]

TREC_EVAL is the path of a trec_eval 10.0 binary. It has no Debian package: the one used for the committed
file was built from the source of github.com/usnistgov/trec_eval (tag v10.0) with its own Makefile, outside
this repository. Needs Debian's python3-scipy (bookworm: 1.10.1) and python3-numpy.

Each case: documents d0..d{n-1}; judged queries with graded judgments and a few queries without judgments;
2-4 variants, each with a ranking per query (scores on a grid of 1/8, so ties occur and every score is exact
in float and in text), an empty ranking (the job ran and retrieved nothing), or a failure. For every variant:

- trec_eval -c -q over the qrels of the judged queries that did not fail in that variant and the run of its
  non-empty rankings: the printed value of every measure per query and for "all". This is the definition
  rlm follows: an empty ranking scores 0 on every measure, a failed query is in no mean.

For every pair of variants (A earlier, B later) on recip_rank and P_5, whose per-query values this script
computes exactly (and checks against trec_eval's printed ones): the queries evaluated in both, paired by
query id, and scipy.stats.ttest_rel(B, A), scipy.stats.wilcoxon(B, A, method="approx") (zero_method
"wilcox", no continuity correction), numpy's Cohen's d_z of B - A, the means and the better/worse/tied
counts. The output is deterministic for the same seed, trec_eval and scipy.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import scipy
import scipy.stats

MEASURES = ["ndcg_cut.10", "map", "P.5", "recip_rank", "recall.100"]
EXACT = ["recip_rank", "P_5"]


def ranked(docs):
    """trec_eval's order: score descending, then docid descending (strcmp)."""
    return sorted(docs, key=lambda d: (-d[1], tuple(-ord(c) for c in d[0]) + (1,)))


def exact_values(ranking, judgments):
    rel = {d for d, g in judgments.items() if g >= 1}
    order = [d for d, _ in ranked(ranking)]
    rr = 0.0
    for i, d in enumerate(order):
        if d in rel:
            rr = 1.0 / (i + 1)
            break
    p5 = sum(1 for d in order[:5] if d in rel) / 5.0
    return {"recip_rank": rr, "P_5": p5}


def trec_eval(binary, qrels, run):
    with tempfile.TemporaryDirectory() as tmp:
        qp, rp = os.path.join(tmp, "qrels"), os.path.join(tmp, "run")
        with open(qp, "w") as f:
            f.write(qrels)
        with open(rp, "w") as f:
            f.write(run)
        args = [binary, "-c", "-q"] + [a for m in MEASURES for a in ("-m", m)] + [qp, rp]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        name, qid, value = line.split()
        table.setdefault(qid, {})[name] = value
    return table


def make_case(rng, binary, index):
    n_docs = rng.randint(8, 40)
    n_judged = rng.randint(3, 30)
    n_unjudged = rng.randint(0, 3)
    docs = ["d%d" % i for i in range(n_docs)]
    queries = []
    for q in range(n_judged + n_unjudged):
        judgments = {}
        if q < n_judged:
            for _ in range(rng.randint(1, 5)):
                judgments[rng.choice(docs)] = rng.randint(0, 3)
        queries.append({"id": "q%d" % q, "text": "query %d" % q, "judgments": judgments})
    p_empty = rng.choice([0.0, 0.1, 0.3])
    p_fail = rng.choice([0.0, 0.0, 0.1, 0.25])
    variants = []
    for v in range(rng.randint(2, 4)):
        results = []
        for q in queries:
            r = rng.random()
            if r < p_fail:
                results.append({"qid": q["id"], "status": "failed"})
            elif r < p_fail + p_empty:
                results.append({"qid": q["id"], "status": "ok", "docs": []})
            else:
                picked = rng.sample(docs, rng.randint(1, min(12, n_docs)))
                ranking = [[d, rng.randint(0, 15) / 8.0] for d in picked]
                ranking.sort(key=lambda x: -x[1])  # retrieval order; ties in the order drawn
                results.append({"qid": q["id"], "status": "ok", "docs": ranking})
        variants.append({"name": "v%d" % v, "results": results})

    judged = [q for q in queries if q["judgments"]]
    expected_variants = []
    exact = []  # per variant: qid -> {measure: value} for evaluated judged queries
    for v in variants:
        by_q = {r["qid"]: r for r in v["results"]}
        ok = [q for q in judged if by_q[q["id"]]["status"] == "ok"]
        qrels = "".join("%s 0 %s %d\n" % (q["id"], d, g) for q in ok for d, g in q["judgments"].items())
        run = "".join("%s Q0 %s %d %.3f %s\n" % (r["qid"], d, i + 1, s, v["name"])
                      for r in v["results"] if r["status"] == "ok" for i, (d, s) in enumerate(r["docs"]))
        table = trec_eval(binary, qrels, run) if ok else {}
        values = {}
        for q in ok:
            rk = [(d, s) for d, s in by_q[q["id"]]["docs"]]
            values[q["id"]] = exact_values(rk, q["judgments"])
            for m in EXACT:  # the exact values agree with trec_eval's printed ones
                assert "%.4f" % values[q["id"]][m] == table[q["id"]][m], (index, v["name"], q["id"], m)
        expected_variants.append({
            "name": v["name"],
            "evaluated": len(ok),
            "empty": sum(1 for q in ok if not by_q[q["id"]]["docs"]),
            "failed": len(judged) - len(ok),
            "trec_eval": table,
        })
        exact.append(values)

    comparisons = []
    for i in range(len(variants)):
        for j in range(i + 1, len(variants)):
            for m in EXACT:
                a_vals, b_vals = exact[i], exact[j]
                both = sorted(set(a_vals) & set(b_vals))
                a = np.array([a_vals[q][m] for q in both])
                b = np.array([b_vals[q][m] for q in both])
                row = {"a": variants[i]["name"], "b": variants[j]["name"], "measure": m, "queries": len(both),
                       "only_a": len(set(a_vals) - set(b_vals)), "only_b": len(set(b_vals) - set(a_vals)),
                       "better": int(np.sum(b > a)), "worse": int(np.sum(b < a)), "tied": int(np.sum(b == a))}
                if len(both) >= 1:
                    row["mean_a"] = float(np.mean(a))
                    row["mean_b"] = float(np.mean(b))
                d = b - a
                if len(both) >= 2 and np.any(d != 0):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        row["t_p"] = float(scipy.stats.ttest_rel(b, a).pvalue)
                        row["wilcoxon_approx_p"] = float(
                            scipy.stats.wilcoxon(b, a, method="approx", zero_method="wilcox", correction=False).pvalue)
                    sd = float(np.std(d, ddof=1))
                    row["d_z"] = float(np.mean(d) / sd) if sd > 0 else None
                comparisons.append(row)
    return {"documents": n_docs, "queries": queries, "variants": variants, "expected": expected_variants,
            "comparisons": comparisons}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trec_eval")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                                                      "pairing", "cases.json"))
    parser.add_argument("--cases", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(20261207)
    cases = [make_case(rng, args.trec_eval, i) for i in range(args.cases)]
    doc = {"generator": "tools/gen_pairing_fixtures.py", "scipy": scipy.__version__, "numpy": np.__version__,
           "measures": MEASURES, "cases": cases}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cases), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
