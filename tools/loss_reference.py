#!/usr/bin/env python3
"""Dev-only: writes test/fixtures/losses.json, an independent float64 numpy implementation of the
losses in src/losses/ (paper section 2.3) evaluated on small fixed inputs.

Written from the formulas (the paper, section 2.3; SoftTriple: Qian et al., ICCV 2019, and its reference code), not from the TypeScript:
  ArcFace: cos = normalise(x) . normalise(W)^T; target logit s*phi, phi = cos(theta + m) when
    cos > cos(pi - m) else cos - sin(pi - m)*m; CE via log-sum-exp.
  Noisy-ArcMix: margin on A only, lam*CE(A) + (1-lam)*CE(B) on the same logits.
  ArcMix: lam*ArcFace(A) + (1-lam)*ArcFace(B).
  SoftTriple (Qian et al. reference): softmax over K of sim/gamma, S = sum p*sim,
    CE(lambda*(S - delta*onehot)), + tau * sum_{same class, k<k'} sqrt(2 + 1e-5 - 2 w.w') / (C*K*(K-1)).
  Anomaly score: -log softmax(logits)[y], margin at test or not.

Run: /usr/bin/python3 tools/loss_reference.py
"""
import json
import math
import os

import numpy as np


def normalise(x):
    n = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return x / np.maximum(n, 1e-12)


def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def arcface_logits(x, w, y, m, s):
    cos = np.clip(normalise(x) @ normalise(w).T, -1, 1)
    if y is None:
        return s * cos
    out = cos.copy()
    for i, c in enumerate(y):
        ct = cos[i, c]
        if ct > math.cos(math.pi - m):
            phi = math.cos(math.acos(ct) + m)  # cos(theta + m) computed through the angle itself
        else:
            phi = ct - math.sin(math.pi - m) * m
        out[i, c] = phi
    return s * out


def ce(z, y):
    lp = log_softmax(z)
    return -lp[np.arange(len(y)), y]


def arcface(x, w, y, m, s):
    return float(ce(arcface_logits(x, w, y, m, s), y).mean())


def noisy_arcmix(x, w, a, b, lam, m, s):
    z = arcface_logits(x, w, a, m, s)
    return float((lam * ce(z, a) + (1 - lam) * ce(z, b)).mean())


def arcmix(x, w, a, b, lam, m, s):
    return lam * arcface(x, w, a, m, s) + (1 - lam) * arcface(x, w, b, m, s)


def softtriple(x, centers, y, gamma, lam, delta, K, tau):
    C = centers.shape[0] // K
    sim = (normalise(x) @ normalise(centers).T).reshape(len(x), C, K)
    e = np.exp((sim - sim.max(axis=2, keepdims=True)) / gamma)
    p = e / e.sum(axis=2, keepdims=True)
    S = (p * sim).sum(axis=2)
    margin = np.zeros_like(S)
    margin[np.arange(len(y)), y] = delta
    loss = ce(lam * (S - margin), y).mean()
    if tau > 0 and K > 1:
        wn = normalise(centers)
        reg = 0.0
        for c in range(C):
            for i in range(K):
                for j in range(i + 1, K):
                    reg += math.sqrt(2 + 1e-5 - 2 * float(wn[c * K + i] @ wn[c * K + j]))
        loss += tau * reg / (C * K * (K - 1))
    return float(loss)


def main():
    rng = np.random.default_rng(6)
    B, D, C = 6, 5, 4
    x = rng.normal(size=(B, D))
    w = rng.normal(size=(C, D))
    a = rng.integers(0, C, B)
    b = rng.permutation(a)
    # Row 4 points away from its class weight: cos < cos(pi - m), the fallback branch.
    x[4] = -w[a[4]] + 0.05 * rng.normal(size=D)
    # Row 5 is zero: normalised to zero, cos = 0 everywhere.
    x[5] = 0
    K = 3
    centers = rng.normal(size=(C * K, D))
    cases = []
    for m, s in ((0.7, 30.0), (0.5, 64.0), (0.0, 10.0), (1.2, 30.0)):
        cases.append({"fn": "arcFaceLoss", "opts": {"margin": m, "scale": s}, "value": arcface(x, w, a, m, s)})
        for lam in (0.3, 0.85):
            cases.append({"fn": "noisyArcMixLoss", "lam": lam, "opts": {"margin": m, "scale": s}, "value": noisy_arcmix(x, w, a, b, lam, m, s)})
            cases.append({"fn": "arcMixLoss", "lam": lam, "opts": {"margin": m, "scale": s}, "value": arcmix(x, w, a, b, lam, m, s)})
        for mat in (True, False):
            z = arcface_logits(x, w, a if mat else None, m, s)
            cases.append({"fn": "anomalyScores", "opts": {"margin": m, "scale": s, "marginAtTest": mat}, "values": ce(z, a).tolist()})
    for gamma, lam, delta, k, tau in ((0.1, 20, 0.02, 3, 0), (0.05, 20, 0.02, 3, 0.2), (0.1, 10, 0.025, 3, 0.02), (0.1, 20, 0.02, 1, 0.5), (1.0, 5, 0.1, 2, 0.3)):
        cs = centers[: C * k]
        cases.append({
            "fn": "softTripleLoss",
            "K": k,
            "opts": {"gamma": gamma, "lambda": lam, "delta": delta, "K": k, "tau": tau},
            "value": softtriple(x, cs, a, gamma, lam, delta, k, tau),
        })
    out = {
        "reference": f"numpy {np.__version__}, float64, tools/loss_reference.py",
        "emb": x.tolist(),
        "weights": w.tolist(),
        "centers": centers.tolist(),
        "labelsA": a.tolist(),
        "labelsB": b.tolist(),
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "losses.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
