#!/usr/bin/python3
"""Writes tests/fixtures/trec_parity/: random qrels and runs with real trec_eval 10.0's printed output.

Usage: /usr/bin/python3 tools/gen_trec_parity_fixtures.py TREC_EVAL_BINARY [OUT_DIR]

The binary is trec_eval 10.0 built from source with its own Makefile and default flags: github
usnistgov/trec_eval, tag v10.0 (commit f4253652c8efd0d86ddffd0d163cc0a0f813111a), `make` in a checkout
outside this repository. Nothing of trec_eval is committed here; only its printed output.

Each case NN has NN.qrels (4 columns), NN.jg when the case has multi-group judgments (-R qrels_jg input: a
document may be judged once per group), NN.prefs and NN.prefsjg (the same without negative grades, as
-R qrels_prefs input: with a negative level, trec_eval's prefs_avgjg_Rnonrel reads past the end of its
array), NN.prefs5 (-R prefs input: each group's documents in one to three subgroups, each a random subset
judged with the group's levels, so the preferences are consistent) and NN.run. NN.out holds one section per
trec_eval command:
  @@ <rel file: qrels|jg|prefs|prefsjg|prefs5> <trec_eval arguments before the two file names>
followed by trec_eval's stdout. A command that trec_eval rejects (e.g. a judged query missing from the run
without -c, on which trec_eval 10.0 exits with status 4) is not recorded.

The random inputs cover: ties in scores, graded relevance (0-3), documents in the pool but unjudged (-1),
retrieved documents that were never judged, queries missing on either side, qids that sort differently as
strings and numbers, and queries whose counts sit on 4-decimal rounding boundaries (num_ret 250, num_rel 80,
num_rel_ret 29 gives set_map 841/20000 = 0.04205).
"""
import os
import random
import subprocess
import sys

SEED = 20261207
NUM_RANDOM_CASES = 22

# (num_ret, num_rel, num_rel_ret) triples whose measures land on rounding boundaries.
BOUNDARY_COUNTS = [(250, 80, 29), (125, 32, 9), (160, 50, 5), (400, 25, 11), (64, 40, 15), (80, 25, 3)]


def rand_score(rng, style):
    if style == "ties":
        return "%g" % rng.choice([1, 2, 2.5, 3, 4])
    if style == "int":
        return str(rng.randint(-5, 40))
    return "%.*f" % (rng.choice([2, 4, 6]), rng.uniform(-3, 30))


def make_query(rng, qid, counts=None):
    """Returns (judgments [(doc, grade)], run [(doc, score)])."""
    style = rng.choice(["ties", "int", "float", "float"])
    judgments, run = [], []
    if counts:
        num_ret, num_rel, num_rel_ret = counts
        rel_docs = ["r%s_%d" % (qid, i) for i in range(num_rel)]
        nonrel = ["n%s_%d" % (qid, i) for i in range(rng.randint(0, 40))]
        for d in rel_docs:
            judgments.append((d, rng.choice([1, 1, 2, 3])))
        for d in nonrel:
            judgments.append((d, 0))
        retrieved = rng.sample(rel_docs, num_rel_ret)
        others = rng.sample(nonrel, min(len(nonrel), (num_ret - num_rel_ret) // 3))
        retrieved += others
        retrieved += ["x%s_%d" % (qid, i) for i in range(num_ret - len(retrieved))]
        rng.shuffle(retrieved)
        n = len(retrieved)
        for i, d in enumerate(retrieved):
            run.append((d, "%.4f" % (n - i) if style != "ties" else rand_score(rng, "ties")))
        return judgments, run
    pool = ["D%d" % i for i in range(rng.choice([3, 8, 20, 60, 150]))]
    judged = rng.sample(pool, rng.randint(1, len(pool)))
    for d in judged:
        judgments.append((d, rng.choices([-1, 0, 1, 2, 3], weights=[1, 5, 3, 2, 1])[0]))
    if all(g < 0 for _, g in judgments):
        judgments[0] = (judgments[0][0], 0)
    outside = ["U%d" % i for i in range(rng.choice([0, 5, 30]))]
    candidates = pool + outside
    num_ret = rng.randint(0, len(candidates))
    if num_ret == 0:
        num_ret = 1
    for d in rng.sample(candidates, num_ret):
        run.append((d, rand_score(rng, style)))
    return judgments, run


def write_prefs5(rng, path, jg):
    groups = {}
    for qid, group, doc, grade in jg:
        if grade >= 0:
            groups.setdefault((qid, group), []).append((doc, grade))
    with open(path, "w") as f:
        for (qid, group), docs in sorted(groups.items()):
            for sub in range(rng.randint(1, 3)):
                chosen = rng.sample(docs, rng.randint(min(2, len(docs)), len(docs)))
                for doc, grade in chosen:
                    f.write("%s %s s%d %s %d\n" % (qid, group, sub, doc, grade))


def write_case(out_dir, name, qrels, jg, run, runid):
    with open(os.path.join(out_dir, name + ".qrels"), "w") as f:
        for qid, group, doc, grade in qrels:
            f.write("%s %s %s %d\n" % (qid, group, doc, grade))
    with open(os.path.join(out_dir, name + ".prefs"), "w") as f:
        for qid, group, doc, grade in qrels:
            if grade >= 0:
                f.write("%s %s %s %d\n" % (qid, group, doc, grade))
    if jg:
        with open(os.path.join(out_dir, name + ".jg"), "w") as f:
            for qid, group, doc, grade in jg:
                f.write("%s %s %s %d\n" % (qid, group, doc, grade))
        with open(os.path.join(out_dir, name + ".prefsjg"), "w") as f:
            for qid, group, doc, grade in jg:
                if grade >= 0:
                    f.write("%s %s %s %d\n" % (qid, group, doc, grade))
    with open(os.path.join(out_dir, name + ".run"), "w") as f:
        for qid, doc, score in run:
            f.write("%s Q0 %s 0 %s %s\n" % (qid, doc, score, runid))


def run_trec_eval(binary, args, rel_path, run_path):
    p = subprocess.run([binary] + args + [rel_path, run_path], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "tests", "fixtures", "trec_parity")
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    rng = random.Random(SEED)
    cases = []
    for c in range(NUM_RANDOM_CASES + len(BOUNDARY_COUNTS)):
        boundary = c >= NUM_RANDOM_CASES
        nq = 1 if boundary else rng.choice([1, 1, 2, 3, 4])
        qids = rng.sample(["1", "2", "10", "301", "q7", "Q7", "a-b", "099"], nq)
        qrels, jg, run = [], [], []
        multi_group = not boundary and rng.random() < 0.5
        drop_run = not boundary and rng.random() < 0.3
        for k, qid in enumerate(qids):
            counts = BOUNDARY_COUNTS[c - NUM_RANDOM_CASES] if boundary else None
            judgments, ranking = make_query(rng, qid, counts)
            side = rng.random()
            if drop_run and nq > 1 and k == 0:
                ranking = []  # judged, missing from the run
            if not boundary and nq > 1 and k > 0 and side < 0.15:
                judgments = []  # in the run, not judged
            for d, g in judgments:
                qrels.append((qid, "0", d, g))
            if multi_group and judgments:
                for group in ["u%d" % i for i in range(rng.randint(1, 3))]:
                    for d, g in judgments:
                        if rng.random() < 0.7:
                            jg.append((qid, group, d, max(-1, min(3, g + rng.choice([-1, 0, 0, 1])))))
            for d, s in ranking:
                run.append((qid, d, s))
        rng.shuffle(qrels)
        rng.shuffle(run)
        if multi_group and not jg:
            multi_group = False
        name = "%02d" % c
        write_case(out_dir, name, qrels, jg, run, "run%d" % c)
        if multi_group:
            write_prefs5(rng, os.path.join(out_dir, name + ".prefs5"), jg)
        cases.append((name, boundary, multi_group, qrels, drop_run and nq > 1))

    for name, boundary, multi_group, qrels, missing in cases:
        runf = os.path.join(out_dir, name + ".run")
        max_grade = {}
        for qid, _, _, g in qrels:
            max_grade[qid] = max(max_grade.get(qid, -1), g)
        # -c changes nothing unless a judged query is missing from the run; -J and -l 0 alternate (size).
        commands = [("qrels", ["-q", "-m", "all_trec"])]
        if missing:
            commands.append(("qrels", ["-q", "-c", "-m", "all_trec"]))
        if not boundary:
            commands.append(("qrels", ["-M", str(rng.choice([1, 3, 10])), "-m", "all_trec"]))
            commands.append(("qrels", ["-J", "-m", "all_trec"] if int(name) % 2 else ["-l", "0", "-m", "all_trec"]))
            # trec_eval's bpref reads grade counts up to the level - 1 without a bound: only where defined.
            if all(g >= 1 for g in max_grade.values()):
                commands.append(("qrels", ["-l", "2", "-m", "all_trec"]))
            # Measures with parameters; trec_eval 10.0 crashes when dcg/ideal_dcg share a command with other
            # gain-parameter measures, so they get their own. rbp with parameters is left out: m_rbp.c reads
            # its gain range (min, max) uninitialised, so its output depends on stack garbage.
            commands.append(("qrels", ["-q", "-N", "500", "-m", "utility.2,-1,0.5,0.25", "-m", "rbp_resid.p=0.5",
                                       "-m", "P.3,7,250", "-m", "iprec_at_recall.0.25,0.33,0.5",
                                       "-m", "Rprec_mult.0.5,1.5", "-m", "11pt_avg.0.2,0.4", "-m", "set_F.0.5",
                                       "-m", "yaap", "-m", "ndcg.1=3,2=9,3=0.5", "-m", "G.1=2,2=4"]))
            commands.append(("qrels", ["-q", "-m", "dcg", "-m", "ideal_dcg"]))
            # -c with -l and -D (only the first judged query): summaries over every judged query.
            first_qid = sorted(max_grade)[0]
            commands.append(("qrels", ["-c", "-l", "2", "-m", "num_q", "-m", "num_rel", "-m", "num_rel_ret",
                                       "-m", "map", "-m", "gm_map"]))
            commands.append(("qrels", ["-q", "-c", "-D", "0." + first_qid, "-m", "num_q", "-m", "num_rel",
                                       "-m", "map", "-m", "gm_map", "-m", "P.5"]))
            commands.append(("prefs", ["-q", "-R", "qrels_prefs", "-m", "all_prefs"]))
            if multi_group:
                commands.append(("jg", ["-q", "-R", "qrels_jg", "-m", "qrels_jg", "-m", "P_avgjg.3,20"]))
                commands.append(("prefsjg", ["-q", "-R", "qrels_prefs", "-m", "all_prefs"]))
                commands.append(("prefs5", ["-q", "-R", "prefs", "-m", "all_prefs"]))
                commands.append(("prefs5", ["-c", "-M", "5", "-R", "prefs", "-m", "all_prefs"]))
        with open(os.path.join(out_dir, name + ".out"), "w") as f:
            for which, args in commands:
                out = run_trec_eval(binary, args, os.path.join(out_dir, name + "." + which), runf)
                if out is None:
                    continue
                f.write("@@ %s %s\n" % (which, " ".join(args)))
                f.write(out)


if __name__ == "__main__":
    main()
