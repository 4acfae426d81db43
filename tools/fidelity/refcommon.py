"""Shared parts of the fidelity harness's PyTorch references (dev-only; never a dependency of exp):
reading exp's WAVs and computing the log-Mel front end from its definition, exp's learning-rate
schedule, the per-type grouping of a batch, the run's claim marker, and the command line every
reference script shares (reference.py: FGASpecNet; ref_glow.py: Glow-Aff; ref_mobilenetv2.py:
MobileNetV2). Each script reads <dir>/setup.json written by tools/fidelity/exp-side.ts.
"""
import argparse
import json
import math
import os
import sys
import time
import wave

import numpy as np


# ---------------------------------------------------------------- data and front end

def read_wav(path, samples):
    with wave.open(path, 'rb') as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float32) / 32768.0
    out = np.zeros(samples, dtype=np.float32)
    out[:min(samples, len(x))] = x[:samples]
    return out


def mel_filterbank(sr, n_fft, n_mels, f_min, f_max, scale, norm):
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        if scale == 'htk':
            return 2595 * np.log10(1 + f / 700)
        lin = f / (200 / 3)
        return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-9) / 1000) / (np.log(6.4) / 27), lin)

    def mel_to_hz(m):
        if scale == 'htk':
            return 700 * (10 ** (m / 2595) - 1)
        return np.where(m >= 15, 1000 * np.exp(np.log(6.4) / 27 * (m - 15)), m * (200 / 3))

    pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    fb = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    if norm == 'slaney':
        fb *= 2 / (hi - lo)
    return fb


def log_mel(x, lm, sr, fb):
    """torchaudio's MelSpectrogram (centred, periodic Hann, power 2) then 10 log10(max(., 1e-10)), float64."""
    n_fft, hop = lm['nFft'], lm['hop']
    xp = np.pad(x.astype(np.float64), n_fft // 2, mode=lm['pad'])
    frames = 1 + (len(xp) - n_fft) // hop
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(xp[idx] * win, axis=1)) ** 2
    return (10 * np.log10(np.maximum(fb @ power.T, 1e-10))).astype(np.float32)


def load_split(meta, cfg, clip):
    """Waveforms [N, samples] and log-Mel maps [N, nMels, frames] of exp's clip list."""
    lm = cfg['features']['logmel']
    sr = cfg['data']['sampleRate']
    fb = mel_filterbank(sr, lm['nFft'], lm['nMels'], lm.get('fMin', 0), lm.get('fMax') or sr / 2, lm['scale'], lm['norm'])
    waves = np.stack([read_wav(m['path'], clip['samples']) for m in meta])
    mels = np.stack([log_mel(w, lm, sr, fb) for w in waves])
    return waves, mels


def windows(mels, size, hop):
    """exp's melWindows: windows of `size` frames every `hop`, [B * N, 1, nMels, size], clip-major."""
    b, m, t = mels.shape
    n = (t - size) // hop + 1
    assert n >= 1, f'windows of {size} frames, clips of {t}'
    out = np.stack([mels[:, :, k * hop:k * hop + size] for k in range(n)], 1)
    return out.reshape(b * n, 1, m, size), n


# ---------------------------------------------------------------- training plumbing

def lr_at(tc, epoch0):
    """CosineAnnealingLR stepped per epoch, T_max = epochs, eta_min = etaMin or etaMinRatio * lr."""
    if tc['schedule'] == 'constant':
        return tc['lr']
    eta = tc['etaMin'] if tc.get('etaMin') is not None else tc['etaMinRatio'] * tc['lr']
    eta = min(eta, tc['lr'])
    return eta + (tc['lr'] - eta) * (1 + math.cos(math.pi * epoch0 / tc['epochs'])) / 2


def type_classes(exp):
    """{type: [global class index, ...]} in first-seen order (exp's classesByType); local ID = position."""
    out = {}
    for g, c in enumerate(exp['classes']):
        out.setdefault(c['type'], []).append(g)
    return out


def split_by_type(rows, class_of, local_of, type_of):
    """A batch's rows grouped by machine type: {type: (rows, type-local labels)}, types in first-seen order of the classes."""
    out = {}
    for r in rows:
        g = class_of[r]
        t = type_of[g]
        out.setdefault(t, ([], []))
        out[t][0].append(r)
        out[t][1].append(local_of[g])
    return out


class PerTypeRig:
    """What the per-type baselines' references train with, built in one order (so the same seed
    draws the same weights): one model per machine type (make(number of the type's IDs)), maps from
    a global class index to its type and to its index within the type, one AdamW over every model
    (exp's AdamW decays every trained weight, as AdamW(model.parameters()) does), the training
    split's log-Mels and classes, and the epoch plan (repeated 4 times with the epochs4x variant)."""

    def __init__(self, exp, seed, variant, make):
        import torch
        cfg = exp['config']
        self.tc = dict(cfg['train'])
        torch.manual_seed(seed)
        by_type = type_classes(exp)
        self.models = {t: make(len(cls)) for t, cls in by_type.items()}
        self.type_of = {gi: t for t, cls in by_type.items() for gi in cls}
        self.local_of = {gi: i for cls in by_type.values() for i, gi in enumerate(cls)}
        params = [p for m in self.models.values() for p in m.parameters()]
        self.opt = torch.optim.AdamW(params, lr=self.tc['lr'], betas=(0.9, 0.999), eps=1e-8,
                                     weight_decay=self.tc['weightDecay'])
        _, self.mels = load_split(exp['train'], cfg, exp['clip'])
        self.classes = [m['classIndex'] for m in exp['train']]
        self.plan = exp['plan'] * (4 if 'epochs4x' in variant else 1)
        self.tc['epochs'] = len(self.plan)
        for m in self.models.values():
            m.train()

    def start_epoch(self, e):
        """Sets epoch e's learning rate (exp's cosine per epoch) on every parameter group; returns it."""
        lr = lr_at(self.tc, e)
        for group in self.opt.param_groups:
            group['lr'] = lr
        return lr

    def by_type(self, rows):
        """A batch's rows grouped by machine type: {type: (rows, local class indices)}."""
        return split_by_type(rows, self.classes, self.local_of, self.type_of).items()


def claim(marker, result):
    """Claims a result for this process (a marker with its pid); False when it exists or a live process holds it."""
    if os.path.exists(result):
        return False
    if os.path.exists(marker):
        try:
            pid = int(open(marker).read())
            if pid not in (os.getpid(), os.getppid()):  # ours, or claimed by the harness that started us
                os.kill(pid, 0)
                return False
        except (ValueError, ProcessLookupError):
            pass
    open(marker, 'w').write(str(os.getpid()))
    return True


def run_reference(train, variants, doc):
    """The command line of a per-type baseline's reference: --dir, --init torch, --threads, --variant.

    train(exp, seed, variants) -> dict with 'epochs' and 'scores'; written to
    <dir>/torch-torch[+variant...].json (the file name the harness reads).
    """
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--init', choices=['torch'], default='torch')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--variant', default='', help=f'comma-separated departures from exp: {", ".join(variants) or "none"}')
    a = ap.parse_args()
    chosen = sorted(v for v in a.variant.split(',') if v)
    if set(chosen) - set(variants):
        sys.exit(f'{os.path.basename(sys.argv[0])}: --variant {a.variant}: expected some of {", ".join(variants) or "(none)"}')
    exp = json.load(open(os.path.join(a.dir, 'setup.json')))
    result = os.path.join(a.dir, 'torch-torch' + ''.join(f'+{v}' for v in chosen) + '.json')
    if not claim(result + '.running', result):
        print(f'{result} is done or being done by another process', file=sys.stderr)
        return
    try:
        import torch
        torch.set_num_threads(a.threads)
        t0 = time.time()
        res = train(exp, exp['config']['seed'], set(chosen))
        res.update({'init': 'torch', 'variant': chosen, 'seconds': time.time() - t0,
                    'torch': torch.__version__, 'threads': a.threads})
        json.dump(res, open(result, 'w'))
    finally:
        os.remove(result + '.running')
