#!/usr/bin/env python3
"""Dev-only: writes test/fixtures/logmel-reference.json, the independent reference for the
log-Mel front end (src/features/logmel.ts, paper section 2.1.2).

The reference is torchaudio's MelSpectrogram (what the paper used), run in float64, followed by
10*log10(max(x, 1e-10)). A second, plain-numpy implementation written from the librosa/torchaudio
definitions is computed too and must agree with torchaudio, so the fixture does not rest on one
library alone. The test (test/features-logmel-reference.test.ts) reads the JSON and runs without
Python.

Setup on Debian: apt-get install -y python3-torchaudio python3-numpy
Run from the repository root: /usr/bin/python3 tools/logmel_reference.py
"""
import base64
import json
import sys

import numpy as np
import torch
import torchaudio

SR = 16000
FLOOR = 1e-10


def signal_a():
    """0.75 s: a linear chirp 100 -> 7000 Hz, two tones, a noise burst and low white noise."""
    rng = np.random.default_rng(20200)
    n = 12000
    t = np.arange(n) / SR
    dur = n / SR
    f0, f1 = 100.0, 7000.0
    chirp = 0.3 * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t))
    tones = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t + 0.3)
    burst = np.where((t > 0.3) & (t < 0.4), 0.2 * rng.standard_normal(n), 0.0)
    noise = 0.01 * rng.standard_normal(n)
    return (chirp + tones + burst + noise).astype(np.float32)


def signal_b():
    """9001 samples (not a multiple of any hop): an AM tone, clicks and faint noise."""
    rng = np.random.default_rng(7)
    n = 9001
    t = np.arange(n) / SR
    x = 0.4 * (1 + 0.5 * np.sin(2 * np.pi * 5 * t)) * np.sin(2 * np.pi * 1234.5 * t)
    x[::1500] += 0.8
    x += 0.001 * rng.standard_normal(n)
    return x.astype(np.float32)


CASES = [
    # The paper's front end (section 2.1.2) and our default.
    dict(name="paper-htk-none-reflect", signal="a", nFft=2048, hop=512, nMels=128, scale="htk", norm="none", pad="reflect", fMin=0, fMax=None),
    # TASTgram's variant: slaney scale and norm, zero padding.
    dict(name="tastgram-slaney-slaney-constant", signal="a", nFft=2048, hop=512, nMels=128, scale="slaney", norm="slaney", pad="constant", fMin=0, fMax=None),
    # STgram-MFN's n_fft.
    dict(name="stgram-nfft1024", signal="b", nFft=1024, hop=512, nMels=128, scale="htk", norm="none", pad="reflect", fMin=0, fMax=None),
    # Off-default everything: small FFT, odd hop, band limits.
    dict(name="small-band-limited", signal="b", nFft=512, hop=160, nMels=40, scale="slaney", norm="none", pad="constant", fMin=50, fMax=7600),
]


def torchaudio_logmel(x, c):
    # torchaudio builds its window and filterbank in the default dtype; float64 throughout keeps
    # the reference's own rounding (float32 filter edges cost ~2e-4 dB) out of the comparison.
    torch.set_default_dtype(torch.float64)
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=SR,
        n_fft=c["nFft"],
        hop_length=c["hop"],
        f_min=float(c["fMin"]),
        f_max=None if c["fMax"] is None else float(c["fMax"]),
        n_mels=c["nMels"],
        power=2.0,
        center=True,
        pad_mode=c["pad"],
        norm=None if c["norm"] == "none" else "slaney",
        mel_scale=c["scale"],
        window_fn=torch.hann_window,
    ).double()
    m = mel(torch.from_numpy(x.astype(np.float64)))
    return (10 * torch.log10(torch.clamp(m, min=FLOOR))).numpy()


def numpy_logmel(x, c):
    """From the definitions: centred frames, periodic Hann, |rfft|^2, triangular mel filters."""
    n_fft, hop = c["nFft"], c["hop"]
    x = x.astype(np.float64)
    xp = np.pad(x, n_fft // 2, mode=c["pad"])
    frames = 1 + (len(xp) - n_fft) // hop
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(xp[idx] * win, axis=1)) ** 2  # [T, bins]

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        if c["scale"] == "htk":
            return 2595 * np.log10(1 + f / 700)
        lin = f / (200 / 3)
        logm = 15 + np.log(np.maximum(f, 1e-9) / 1000) / (np.log(6.4) / 27)
        return np.where(f >= 1000, logm, lin)

    def mel_to_hz(m):
        if c["scale"] == "htk":
            return 700 * (10 ** (m / 2595) - 1)
        lin = m * (200 / 3)
        logf = 1000 * np.exp(np.log(6.4) / 27 * (m - 15))
        return np.where(m >= 15, logf, lin)

    f_max = SR / 2 if c["fMax"] is None else c["fMax"]
    pts = mel_to_hz(np.linspace(hz_to_mel(c["fMin"]), hz_to_mel(f_max), c["nMels"] + 2))
    freqs = np.linspace(0, SR / 2, n_fft // 2 + 1)
    lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    fb = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    if c["norm"] == "slaney":
        fb *= 2 / (hi - lo)
    return 10 * np.log10(np.maximum(fb @ power.T, FLOOR))


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def main():
    signals = {"a": signal_a(), "b": signal_b()}
    out = {
        "generator": f"tools/logmel_reference.py: torchaudio {torchaudio.__version__} MelSpectrogram in float64, 10*log10(max(x, 1e-10)); cross-checked against a numpy implementation",
        "sampleRate": SR,
        "signals": {k: {"length": int(len(v)), "float32": b64(v)} for k, v in signals.items()},
        "cases": [],
    }
    for c in CASES:
        ref = torchaudio_logmel(signals[c["signal"]], c)
        alt = numpy_logmel(signals[c["signal"]], c)
        mask = ref > ref.max() - 80
        diff = float(np.abs(ref - alt)[mask].max())
        print(f"{c['name']}: shape {ref.shape}, torchaudio vs numpy max |diff| above floor = {diff:.2e} dB", file=sys.stderr)
        if diff > 1e-6:
            sys.exit(f"{c['name']}: the two references disagree by {diff} dB")
        options = {k: c[k] for k in ("nFft", "hop", "nMels", "scale", "norm", "pad", "fMin", "fMax")}
        out["cases"].append({"name": c["name"], "signal": c["signal"], "options": options, "shape": list(ref.shape), "float32": b64(ref)})
    with open("test/fixtures/logmel-reference.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
