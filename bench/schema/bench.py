#!/usr/bin/env python3
"""bench/schema.sh helper: makes the two documents (--docs DIR) or times
pydantic model_validate_json on them (--time SCHEMA DOC N), in CPU time."""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def docs(out):
    para = ("Le cours amène l'étudiant à analyser des situations "
            "professionnelles, à planifier son travail et à communiquer "
            "ses résultats avec rigueur. ")
    cal = [{"semaine": w, "sujet": "Semaine %d : %s" % (w, para[:60]),
            "activites": para[:150], "travaux_hors_classe": para[:90],
            "evaluations": None if w % 4 else "Évaluation %d" % (w // 4)}
           for w in range(1, 16)]
    evals = [{"titre_evaluation": "Évaluation %d" % k,
              "description": para[:160], "semaine": 4 * k,
              "capacites": [{"capacite": "Capacité %d" % c,
                             "ponderation": "%d %%" % (10 + c)}
                            for c in range(1, 3)]}
             for k in range(1, 5)]
    big = {"presentation_du_cours": para * 4,
           "objectif_terminal_du_cours": para * 2,
           "organisation_et_methodes": para * 3,
           "accomodement": para, "evaluation_formative_apprentissages": para,
           "evaluation_expression_francais": para, "materiel": None,
           "calendriers": cal, "evaluations": evals}
    small = {"calendriers": cal[:5]}
    with open(os.path.join(out, "bulk.json"), "w") as f:
        json.dump(big, f, ensure_ascii=False)
    with open(os.path.join(out, "small.json"), "w") as f:
        json.dump(small, f, ensure_ascii=False)


def timeit(schema, doc, n):
    spec = importlib.util.spec_from_file_location(
        "pd", os.path.join(TOP, "tests", "conformance", "pydantic-diff.py"))
    pd = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pd)
    model = pd.Builder(json.load(open(schema))).build()
    raw = open(doc, "rb").read()
    model.model_validate_json(raw)
    best = None
    for _ in range(5):
        t0 = time.process_time_ns()
        for _ in range(n):
            model.model_validate_json(raw)
        dt = (time.process_time_ns() - t0) / n
        best = dt if best is None or dt < best else best
    print("%.0f" % best)


if __name__ == "__main__":
    if sys.argv[1] == "--docs":
        docs(sys.argv[2])
    else:
        timeit(sys.argv[2], sys.argv[3], int(sys.argv[4]))
