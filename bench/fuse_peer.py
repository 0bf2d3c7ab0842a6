#!/usr/bin/python3
"""The peer of `rlm eval fuse` in bench/fuse.sh: the same fusion as a plain Python script (standard library
only), written from ranx's formulas (ranx/fusion/*.py, ranx/normalization/*.py) as a user without ranx
would write it. Only the methods and normalisations the benchmark times are here.

  fuse_peer.py fuse --method M --norm N -o OUT RUN...   fuse like `rlm eval fuse --method M --norm N`
  fuse_peer.py check A B                                  compare two run files: same documents per query,
                                                          scores within 1e-9 (relative), the same ranking
                                                          except among scores that close

Rankings follow trec_eval: score descending, ties by docid descending. A query missing from a run is fused
from the runs that have it. Output: `qid Q0 docid rank score runid`, scores as repr(float).
"""
import argparse
import math
import sys
from collections import defaultdict


def load_run(path):
    run = defaultdict(dict)
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            qid, _, docid, _, score, _ = line.split()[:6]
            run[qid][docid] = float(score)
    # Each query ranked as trec_eval: score descending, then docid descending.
    return {q: sorted(docs.items(), key=lambda d: (d[1], d[0]), reverse=True) for q, docs in run.items()}


def normalize(ranked, norm):
    """ranked: [(docid, score)] best first -> {docid: normalised score}."""
    scores = [s for _, s in ranked]
    if norm == "none":
        return dict(ranked)
    if norm == "min-max":
        lo, hi = min(scores), max(scores)
        den = max(hi - lo, 1e-9)
        return {d: (s - lo) / den for d, s in ranked}
    if norm == "max":
        den = max(max(scores), 1e-9)
        return {d: s / den for d, s in ranked}
    if norm == "sum":
        lo = min(scores)
        den = max(sum(scores) - lo * len(scores), 1e-9)
        return {d: (s - lo) / den for d, s in ranked}
    if norm == "zmuv":
        mean = sum(scores) / len(scores)
        sd = math.sqrt(sum((s - mean) * (s - mean) for s in scores) / len(scores))
        den = max(sd, 1e-9)
        return {d: (s - mean) / den for d, s in ranked}
    if norm == "rank":
        n = len(ranked)
        return {d: 1 - i / n for i, (d, _) in enumerate(ranked)}
    raise SystemExit(f"unsupported normalization {norm}")


def fuse_query(lists, method, norm):
    """lists: per run, [(docid, score)] best first (runs lacking the query left out) -> {docid: score}."""
    normed = [normalize(l, norm) for l in lists]
    positions = [{d: i for i, (d, _) in enumerate(l)} for l in lists]
    candidates = {}
    for l in lists:
        for d, _ in l:
            candidates.setdefault(d, None)
    out = {}
    if method == "rrf":
        for d in candidates:
            out[d] = sum(1.0 / (60 + (p[d] + 1.0)) for p in positions if d in p)
    elif method in ("sum", "mnz", "anz", "max", "min"):
        for d in candidates:
            present = [n[d] for n in normed if d in n]
            if method == "sum":
                out[d] = sum(present)
            elif method == "mnz":
                out[d] = sum(present) * len(present)
            elif method == "anz":
                out[d] = sum(present) / len(present)
            elif method == "max":
                out[d] = max(present)
            else:
                out[d] = min(present)
    elif method == "bordafuse":
        m = len(candidates)
        for d in candidates:
            total = 0.0
            for p, l in zip(positions, lists):
                total += (m - p[d]) if d in p else (m - len(l) + 1) / 2
            out[d] = total
    else:
        raise SystemExit(f"unsupported method {method}")
    return out


def cmd_fuse(args):
    runs = [load_run(p) for p in args.runs]
    qids = sorted({q for r in runs for q in r})
    lines = []
    for q in qids:
        fused = fuse_query([r[q] for r in runs if q in r], args.method, args.norm)
        # Fused score descending, ties by docid descending (trec_eval's order).
        ranked = sorted(fused.items(), key=lambda d: (d[1], d[0]), reverse=True)
        for rank, (d, s) in enumerate(ranked, 1):
            lines.append(f"{q} Q0 {d} {rank} {s!r} {args.method}\n")
    with open(args.output, "w") as f:
        f.writelines(lines)


def cmd_check(args):
    def read(path):
        run = defaultdict(list)
        with open(path) as f:
            for line in f:
                qid, _, docid, rank, score, _ = line.split()
                run[qid].append((docid, float(score)))
        return run

    a, b = read(args.a), read(args.b)
    if sorted(a) != sorted(b):
        sys.exit(f"query sets differ: {len(a)} vs {len(b)}")
    mismatches = 0
    for q in a:
        sa, sb = dict(a[q]), dict(b[q])
        if sa.keys() != sb.keys():
            sys.exit(f"{q}: document sets differ")
        for d in sa:
            if abs(sa[d] - sb[d]) > 1e-9 * max(1.0, abs(sa[d])):
                sys.exit(f"{q} {d}: score {sa[d]!r} vs {sb[d]!r}")
        for (da, xa), (db, xb) in zip(a[q], b[q]):
            if da != db and abs(xa - xb) > 1e-9 * max(1.0, abs(xa)):
                sys.exit(f"{q}: rankings differ at {da} / {db}")
            mismatches += da != db
    docs = sum(len(v) for v in a.values())
    print(f"same: {len(a)} queries, {docs} documents, {mismatches} positions swapped among near-equal scores")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuse")
    f.add_argument("runs", nargs="+")
    f.add_argument("--method", default="rrf")
    f.add_argument("--norm", default="min-max")
    f.add_argument("-o", "--output", required=True)
    c = sub.add_parser("check")
    c.add_argument("a")
    c.add_argument("b")
    args = ap.parse_args()
    cmd_fuse(args) if args.cmd == "fuse" else cmd_check(args)


if __name__ == "__main__":
    main()
