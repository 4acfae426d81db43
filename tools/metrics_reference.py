#!/usr/bin/env python3
"""Dev-only: writes test/fixtures/metrics.json, the independent reference for src/metrics/roc.ts.

Reference: scikit-learn (Debian python3-sklearn 1.2.1). For each case:
  auc          = roc_auc_score(y, s)
  paucMcclish  = roc_auc_score(y, s, max_fpr=p)   (what every reference code reports)
  pauc         = the raw area of sklearn's roc_curve over FPR in [0, p], cut at p by linear
                 interpolation (numpy.interp), divided by p   (the paper's / DCASE definition)
Cases include heavy ties (scores rounded to few values), p*N not whole, and several p.

Run: /usr/bin/python3 tools/metrics_reference.py
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def raw_partial_area(y, s, p):
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    stop = np.searchsorted(fpr, p, "right")
    xs = np.append(fpr[:stop], p)
    ys = np.append(tpr[:stop], np.interp(p, fpr, tpr))
    return float(np.trapz(ys, xs))


def main():
    rng = np.random.default_rng(20260101)
    cases = []
    specs = [
        # (n_normal, n_anomaly, round_to_decimals or None, shift of anomalies)
        (10, 10, None, 1.0),
        (30, 7, None, 0.5),
        (37, 41, 1, 0.8),
        (100, 100, 0, 0.7),  # heavy ties: integers only
        (53, 19, None, -0.3),  # worse than chance
        (200, 150, 2, 1.5),
        (12, 3, None, 3.0),  # nearly separable
    ]
    for n0, n1, dec, shift in specs:
        s = np.concatenate([rng.normal(0, 1, n0), rng.normal(shift, 1, n1)])
        if dec is not None:
            s = np.round(s, dec)
        y = np.concatenate([np.zeros(n0, int), np.ones(n1, int)])
        order = rng.permutation(len(y))
        y, s = y[order], s[order]
        for p in (0.1, 0.05, 0.3):
            cases.append({
                "labels": y.tolist(),
                "scores": s.tolist(),
                "maxFpr": p,
                "auc": float(roc_auc_score(y, s)),
                "pauc": raw_partial_area(y, s, p) / p,
                "paucMcclish": float(roc_auc_score(y, s, max_fpr=p)),
            })
    import sklearn
    out = {"reference": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}", "cases": cases}
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "metrics.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
