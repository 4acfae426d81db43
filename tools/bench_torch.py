#!/usr/bin/env python3
"""Dev-only PyTorch reference for `exp bench` (never a dependency of exp).

The same FGASpecNet as experiments/fgaspecnet.yaml, written the way the reference code would in
PyTorch: branches log-Mel, Tgram, TAgram and FGA-SpecNet (SpecNet with torch.fft, the frequency
and time gates), 4 x 128 x 313 into MobileFaceNet (current bottleneck table, global depthwise
head, 128-d embedding), ArcFace head over 41 IDs, Noisy-ArcMix + 0.15 * SoftTriple, AdamW.
Random 10 s waveforms and log-Mels, as exp bench. Prints one JSON line like `exp bench --json`.

  /usr/bin/python3 tools/bench_torch.py --batch 4 --steps 3 --threads 2
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k, s, p, groups=1, linear=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = None if linear else nn.PReLU(cout)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return x if self.act is None else self.act(x)


class Bottleneck(nn.Module):
    def __init__(self, cin, cout, s, t):
        super().__init__()
        self.res = s == 1 and cin == cout
        h = cin * t
        self.body = nn.Sequential(ConvBlock(cin, h, 1, 1, 0), ConvBlock(h, h, 3, s, 1, groups=h), ConvBlock(h, cout, 1, 1, 0, linear=True))

    def forward(self, x):
        return x + self.body(x) if self.res else self.body(x)


class MobileFaceNet(nn.Module):
    def __init__(self, cin, emb=128, table=((2, 128, 2, 2), (4, 128, 2, 2), (4, 128, 2, 2))):
        super().__init__()
        layers = [ConvBlock(cin, 64, 3, 2, 1), ConvBlock(64, 64, 3, 1, 1, groups=64)]
        c = 64
        for t, out, n, s in table:
            for i in range(n):
                layers.append(Bottleneck(c, out, s if i == 0 else 1, t))
                c = out
        layers.append(ConvBlock(c, 512, 1, 1, 0))
        self.body = nn.Sequential(*layers)
        self.gdc = ConvBlock(512, 512, (8, 20), 1, 0, groups=512, linear=True)
        self.proj = ConvBlock(512, emb, 1, 1, 0, linear=True)

    def forward(self, x):
        return self.proj(self.gdc(self.body(x))).flatten(1)


class Tgram(nn.Module):
    def __init__(self, mel=128, frames=313):
        super().__init__()
        self.enc = nn.Conv1d(1, mel, 1024, 512, 512, bias=False)
        self.blocks = nn.Sequential(*[nn.Sequential(nn.LayerNorm(frames), nn.LeakyReLU(0.2), nn.Conv1d(mel, mel, 3, 1, 1, bias=False)) for _ in range(3)])

    def forward(self, wave):
        return self.blocks(self.enc(wave.unsqueeze(1)))


class FgaSpec(nn.Module):
    def __init__(self, mel=128, frames=313, lam=0.5):
        super().__init__()
        self.c1 = nn.Parameter(torch.randn(2, mel, frames) * 0.02)
        self.c2 = nn.Parameter(torch.randn(2, mel, frames) * 0.02)
        self.bn_re, self.bn_im = nn.BatchNorm2d(1), nn.BatchNorm2d(1)
        self.gate_f = nn.Linear(2 * mel, mel)
        self.gate_t = nn.Conv1d(1, 1, 3, 1, 1)
        self.lam = lam

    def forward(self, lm, ta):
        f = torch.fft.fft2(lm)
        w1 = torch.complex(self.c1[0], self.c1[1])
        w2 = torch.complex(self.c2[0], self.c2[1])
        s = f * w1
        s = torch.complex(torch.tanh(self.bn_re(s.real.unsqueeze(1)).squeeze(1)), torch.tanh(self.bn_im(s.imag.unsqueeze(1)).squeeze(1)))
        fs = torch.fft.ifft2(f + s * w2).real
        sf = torch.cat([ta.amax(2), ta.mean(2)], 1)
        gf = torch.sigmoid(self.gate_f(sf))
        gt = torch.sigmoid(self.gate_t(ta.mean(1, keepdim=True))).squeeze(1)
        g = self.lam * gf.unsqueeze(2) * gt.unsqueeze(1)
        return (1 - g) * lm + g * fs


class FGASpecNet(nn.Module):
    def __init__(self, classes=41, emb=128):
        super().__init__()
        self.tgram = Tgram()
        self.fga = FgaSpec()
        self.backbone = MobileFaceNet(4, emb)
        self.head = nn.Parameter(nn.init.xavier_uniform_(torch.empty(classes, emb)))
        self.centers = nn.Parameter(F.normalize(torch.randn(classes * 3, emb), dim=1))

    def embed(self, wave, lm):
        ta = torch.sigmoid(lm.mean(1, keepdim=True) + lm.amax(1, keepdim=True)) * lm
        x = torch.stack([lm, self.tgram(wave), ta, self.fga(lm, ta)], 1)
        return self.backbone(x)


def arcface_logits(emb, w, labels, m=0.7, s=30.0):
    cos = F.linear(F.normalize(emb), F.normalize(w)).clamp(-1 + 1e-7, 1 - 1e-7)
    sin = torch.sqrt(1 - cos * cos)
    phi = cos * math.cos(m) - sin * math.sin(m)
    phi = torch.where(cos > math.cos(math.pi - m), phi, cos - math.sin(math.pi - m) * m)
    onehot = F.one_hot(labels, w.shape[0]).float()
    return s * (onehot * phi + (1 - onehot) * cos)


def softtriple(emb, centers, labels, classes, K=3, gamma=0.1, lam=20.0, delta=0.02):
    sim = F.normalize(emb) @ F.normalize(centers).t()
    sim = sim.view(-1, classes, K)
    p = F.softmax(sim / gamma, dim=2)
    S = (p * sim).sum(2)
    margin = delta * F.one_hot(labels, classes).float()
    return F.cross_entropy(lam * (S - margin), labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help='cpu or cuda (npm run bench:gpu)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, classes = a.batch, 41
    dev = torch.device(a.device)
    model = FGASpecNet(classes).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    waves = [(torch.randn(B, 160000) * 0.1).to(dev) for _ in range(2)]
    mels = [(torch.randn(B, 128, 313) * 20).to(dev) for _ in range(2)]
    la = (torch.arange(B) % classes).to(dev)
    lb = ((torch.arange(B) * 7 + 3) % classes).to(dev)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    def train_step():
        lam = 0.6
        wave = lam * waves[0] + (1 - lam) * waves[1]
        lm = lam * mels[0] + (1 - lam) * mels[1]
        emb = model.embed(wave, lm)
        logits = arcface_logits(emb, model.head, la)
        loss = lam * F.cross_entropy(logits, la) + (1 - lam) * F.cross_entropy(logits, lb)
        loss = loss + 0.15 * softtriple(emb, model.centers, la, classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model.eval()
            emb = model.embed(waves[0], mels[0])
            F.linear(F.normalize(emb), F.normalize(model.head))
            model.train()

    train_step(); infer(); sync()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        train_step()
    sync()
    train_s = (time.perf_counter() - t0) / a.steps
    t0 = time.perf_counter()
    for _ in range(a.steps):
        infer()
    sync()
    infer_s = (time.perf_counter() - t0) / a.steps
    print(json.dumps({
        'backend': f'pytorch {torch.__version__}', 'threads': torch.get_num_threads(), 'batch': B,
        'params': sum(p.numel() for n, p in model.named_parameters() if n != 'centers'),
        'train': {'clipsPerSec': B / train_s, 'msPerStep': train_s * 1000},
        'infer': {'clipsPerSec': B / infer_s, 'msPerBatch': infer_s * 1000},
        'loadAverage': os.getloadavg()[0],
        **({'peakBytes': torch.cuda.max_memory_allocated()} if dev.type == 'cuda' else {}),
    }))


if __name__ == '__main__':
    main()
