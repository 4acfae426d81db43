#!/usr/bin/env python3
"""Dev-only PyTorch reference of Glow-Aff for the fidelity harness (npm run fidelity -- --system
glow-aff; never a dependency of exp). It replays one exp run (tools/fidelity/exp-side.ts wrote
<dir>/setup.json): the same clips, log-Mel front end, segments, batch order, objective, optimiser
and schedule, with its own PyTorch initialisation (torch.manual_seed(seed)), and writes
<dir>/torch-torch[+variants].json (per-epoch loss and terms, test scores).

The model is written the way public Glow code writes it (Kingma & Dhariwal 2018; the layout of
the widely used PyTorch ports): per level a squeeze, K steps of actnorm (data-initialised on the
first batch), an invertible 1x1 convolution (orthogonal start, log|det| by torch.slogdet) and an
affine coupling (3x3 conv, ReLU, 1x1 conv, ReLU, zero-initialised 3x3 conv; scale sigmoid(h + 2)),
then half of the channels factored out under a standard normal; the top latent has a learned
diagonal Gaussian per channel. One flow per machine ID of a type (Dohi et al., ICASSP 2021,
arXiv 2103.08801), trained with the type's other IDs as outliers, with exp's per-ID objective
(`glow.training: per-id`): NLL per dimension of each segment under its own ID's flow plus
outlierWeight x the mean binary cross-entropy of sigmoid(outlierScale (log p_k(x)/D - c_k)) against
[segment's ID = k], c_k learned and set from the first batch. Per-type models as exp's
PerTypeSystem: each batch is split by machine type, the loss is the row-weighted sum.

Variants (departures from exp's choices, to measure what a choice is worth; --variant a,b):
  no-outlier   outlierWeight 0: one flow per ID trained on its own ID's segments only (the
               "conventional" flow the paper improves on)
  softmax-id   the outlier term replaced by the cross-entropy over the type's flows of
               softmax_k(outlierScale log p_k(x)/D) at the own ID (a Bayes classifier between
               the IDs' flows)
  epochs4x     the run's batch plan repeated 4 times (cosine over 4x the epochs): the budget

  /usr/bin/python3 tools/fidelity/ref_glow.py --dir runs/fidelity/<set>/glow-aff/seed-1 [--variant no-outlier]
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from refcommon import PerTypeRig, load_split, run_reference, split_by_type, windows

VARIANTS = ('no-outlier', 'softmax-id', 'epochs4x')
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class ActNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer('initialised', torch.tensor(0, dtype=torch.uint8))

    def forward(self, x):
        if self.training and self.initialised.item() == 0:
            with torch.no_grad():
                self.loc.copy_(-x.mean((0, 2, 3), keepdim=True))
                self.logs.copy_(-torch.log(x.std((0, 2, 3), keepdim=True, unbiased=False) + 1e-6))
                self.initialised.fill_(1)
        return (x + self.loc) * torch.exp(self.logs), self.logs.sum() * x.shape[2] * x.shape[3]


class InvConv1x1(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.linalg.qr(torch.randn(c, c))[0])

    def forward(self, x):
        w = self.weight
        return F.conv2d(x, w.view(*w.shape, 1, 1)), torch.slogdet(w)[1] * x.shape[2] * x.shape[3]


class AffineCoupling(nn.Module):
    def __init__(self, c, hidden):
        super().__init__()
        self.ca = c // 2
        self.cb = c - self.ca
        self.net = nn.Sequential(
            nn.Conv2d(self.ca, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
            nn.Conv2d(hidden, 2 * self.cb, 3, padding=1))
        for conv in (self.net[0], self.net[2]):
            conv.weight.data.normal_(0, 0.05)
            conv.bias.data.zero_()
        self.net[4].weight.data.zero_()
        self.net[4].bias.data.zero_()

    def forward(self, x):
        xa, xb = x[:, :self.ca], x[:, self.ca:]
        h = self.net(xa)
        shift, log_s = h[:, :self.cb], F.logsigmoid(h[:, self.cb:] + 2)
        return torch.cat([xa, (xb + shift) * torch.exp(log_s)], 1), log_s.sum((1, 2, 3))


def squeeze(x):
    n, c, h, w = x.shape
    return x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


class Glow(nn.Module):
    def __init__(self, levels, steps, hidden):
        super().__init__()
        self.levels = nn.ModuleList()
        c = 1
        for lvl in range(levels):
            c *= 4
            layers = []
            for _ in range(steps):
                layers += [ActNorm(c), InvConv1x1(c), AffineCoupling(c, hidden)]
            self.levels.append(nn.ModuleList(layers))
            if lvl < levels - 1:
                c //= 2
        self.prior_mean = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.prior_logstd = nn.Parameter(torch.zeros(1, c, 1, 1))

    def log_prob(self, x):
        """log p(x) in nats [N] of images [N, 1, H, W]."""
        total = torch.zeros(x.shape[0])
        h = x
        for lvl, layers in enumerate(self.levels):
            h = squeeze(h)
            for layer in layers:
                h, ld = layer(h)
                total = total + ld
            if lvl < len(self.levels) - 1:
                c = h.shape[1] // 2
                out, h = h[:, c:], h[:, :c]
                total = total + (-0.5 * out ** 2 - HALF_LOG_2PI).sum((1, 2, 3))
        z = (h - self.prior_mean) * torch.exp(-self.prior_logstd)
        return total + (-0.5 * z ** 2 - self.prior_logstd - HALF_LOG_2PI).sum((1, 2, 3))


class PerIdGlow(nn.Module):
    """One machine type: a flow per ID and the target-vs-outlier thresholds c_k."""

    def __init__(self, ids, g):
        super().__init__()
        self.flows = nn.ModuleList([Glow(g['levels'], g['steps'], g['hidden']) for _ in range(ids)])
        self.threshold = nn.Parameter(torch.zeros(ids))
        self.register_buffer('thr_initialised', torch.tensor(0, dtype=torch.uint8))

    def per_dim(self, x):
        return torch.stack([f.log_prob(x) for f in self.flows], 1) / (x.shape[2] * x.shape[3])

    def objective(self, x, own, g, variant):
        pd = self.per_dim(x)
        if self.training and self.thr_initialised.item() == 0:
            with torch.no_grad():
                self.threshold.copy_(pd.mean(0))
                self.thr_initialised.fill_(1)
        k = len(self.flows)
        mask = F.one_hot(own, k).float()
        nll = -(pd * mask).sum(1).mean()
        if 'no-outlier' in variant:
            outlier = torch.zeros(())
        elif 'softmax-id' in variant:
            outlier = F.cross_entropy(g['outlierScale'] * pd, own) if k > 1 else torch.zeros(())
        else:
            z = g['outlierScale'] * (pd - self.threshold)
            outlier = (F.softplus(z) - mask * z).mean()
        weight = 0.0 if 'no-outlier' in variant else g['outlierWeight']
        return nll + weight * outlier, nll, outlier


def train(exp, seed, variant):
    cfg = exp['config']
    g = cfg['glow']
    assert cfg['system'] == 'glow-aff' and g['training'] == 'per-id' and g['coupling'] == 'affine', (cfg['system'], g)
    rig = PerTypeRig(exp, seed, variant, lambda ids: PerIdGlow(ids, g))
    models, type_of, local_of, opt, tm = rig.models, rig.type_of, rig.local_of, rig.opt, rig.mels
    epochs = []
    for e, steps in enumerate(rig.plan):
        lr = rig.start_epoch(e)
        sums = {'loss': 0.0, 'nll': 0.0, 'outlier': 0.0}
        seen = 0
        for step in steps:
            rows = step['rows']
            loss = torch.zeros(())
            parts = {'nll': torch.zeros(()), 'outlier': torch.zeros(())}
            for t, (r, local) in rig.by_type(rows):
                x, n = windows(tm[r], g['segment'], g['hop'])
                own = torch.from_numpy(np.repeat(np.array(local), n)).long()
                total, nll, outlier = models[t].objective(torch.from_numpy(x), own, g, variant)
                w = len(r) / len(rows)
                loss = loss + w * total
                parts['nll'] = parts['nll'] + w * nll.detach()
                parts['outlier'] = parts['outlier'] + w * outlier.detach()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):
                sys.exit(f'ref_glow.py: loss became {loss.item()} at epoch {e + 1}')
            sums['loss'] += loss.item() * len(rows)
            sums['nll'] += parts['nll'].item() * len(rows)
            sums['outlier'] += parts['outlier'].item() * len(rows)
            seen += len(rows)
        epochs.append({'epoch': e + 1, 'loss': sums['loss'] / seen, 'lr': lr,
                       'terms': {'nll': sums['nll'] / seen, 'outlier': sums['outlier'] / seen}})
        print(f'torch glow seed {seed}: epoch {e + 1} loss {sums["loss"] / seen:.4f} '
              f'nll {sums["nll"] / seen:.4f} outlier {sums["outlier"] / seen:.4f}', file=sys.stderr)
    return {'epochs': epochs, 'scores': score(exp, models, g, type_of, local_of)}


def score(exp, models, g, type_of, local_of, batch=16):
    """-log p_own(x) / D per segment, averaged over a clip's segments (exp's clipScores)."""
    _, em = load_split(exp['test'], exp['config'], exp['clip'])
    ey = [m['classIndex'] for m in exp['test']]
    out = np.zeros(len(ey))
    for m in models.values():
        m.eval()
    with torch.no_grad():
        for i in range(0, len(ey), batch):
            rows = list(range(i, min(i + batch, len(ey))))
            for t, (r, local) in split_by_type(rows, ey, local_of, type_of).items():
                x, n = windows(em[r], g['segment'], g['hop'])
                pd = models[t].per_dim(torch.from_numpy(x)).numpy().reshape(len(r), n, -1)
                for j, row in enumerate(r):
                    out[row] = -pd[j, :, local[j]].mean()
    return out.tolist()


if __name__ == '__main__':
    run_reference(train, VARIANTS, __doc__)
