#!/usr/bin/env python3
"""Dev-only PyTorch reference of the MobileNetV2 row for the fidelity harness (npm run fidelity --
--system mobilenetv2; never a dependency of exp). It replays one exp run (tools/fidelity/exp-side.ts
wrote <dir>/setup.json): the same clips, log-Mel front end, windows, batch order, objective,
optimiser and schedule, with its own PyTorch initialisation (torch.manual_seed(seed)), and writes
<dir>/torch-torch[+variants].json (per-epoch loss, test scores).

The network is torchvision's mobilenet_v2 written out (torchvision is not installed here; same
layout: 3x3 stride-2 stem, the inverted-residual table of Sandler et al., channels x width rounded
by _make_divisible, a 1x1 conv to max(1, width) x 1280, global average pooling, a linear
classifier; BatchNorm + ReLU6; kaiming-normal fan-out convs, N(0, 0.01) linear, BatchNorm 1 / 0),
with a 1-channel stem for the log-Mel image and no dropout, as exp's. One model per machine type
classifies the type's machine IDs from log-Mel windows (Giri et al., DCASE 2020 workshop; the
Hitachi DCASE 2021 baseline `y-kawagu/dcase2021_task2_baseline_mobile_net_v2`); score = mean over a
clip's windows of -log p(own ID), in evaluation mode (running BatchNorm statistics).

Variants (--variant a,b):
  hitachi-score  score = mean over windows of log((1 - p) / p) (the Hitachi baseline's)
  precise-bn     before scoring, the BatchNorm statistics re-estimated with the final weights (the
                 cumulative mean and variance over the training windows, per type model)
  epochs4x       the run's batch plan repeated 4 times (cosine over 4x the epochs): the budget

  /usr/bin/python3 tools/fidelity/ref_mobilenetv2.py --dir runs/fidelity/<set>/mobilenetv2/seed-1
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from refcommon import PerTypeRig, load_split, run_reference, split_by_type, windows

VARIANTS = ('hitachi-score', 'precise-bn', 'epochs4x')
TABLE = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def conv_bn(cin, cout, k, stride, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*(layers + [nn.ReLU6(inplace=True)] if relu else layers))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.res = stride == 1 and inp == oup
        layers = [conv_bn(inp, hidden, 1, 1)] if t != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, oup, 1, 1, relu=False)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes, width, last):
        super().__init__()
        inp = make_divisible(32 * width)
        feats = [conv_bn(1, inp, 3, 2)]
        for t, c, n, s in TABLE:
            out = make_divisible(c * width)
            for i in range(n):
                feats.append(InvertedResidual(inp, out, s if i == 0 else 1, t))
                inp = out
        last = make_divisible(last * max(1.0, width))
        feats.append(conv_bn(inp, last, 1, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Linear(last, classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def train(exp, seed, variant):
    cfg = exp['config']
    mc = cfg['mobilenetv2']
    assert cfg['system'] == 'mobilenetv2', cfg['system']
    rig = PerTypeRig(exp, seed, variant, lambda ids: MobileNetV2(ids, mc['width'], mc['lastChannels']))
    models, type_of, local_of, opt, tm, ty = rig.models, rig.type_of, rig.local_of, rig.opt, rig.mels, rig.classes
    epochs = []
    for e, steps in enumerate(rig.plan):
        lr = rig.start_epoch(e)
        total = correct = images = 0.0
        seen = 0
        for step in steps:
            rows = step['rows']
            loss = torch.zeros(())
            for t, (r, local) in rig.by_type(rows):
                x, n = windows(tm[r], mc['window'], mc['hop'])
                y = torch.from_numpy(np.repeat(np.array(local), n)).long()
                logits = models[t](torch.from_numpy(x))
                loss = loss + len(r) / len(rows) * F.cross_entropy(logits, y)
                correct += (logits.argmax(1) == y).sum().item()
                images += len(y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):
                sys.exit(f'ref_mobilenetv2.py: loss became {loss.item()} at epoch {e + 1}')
            total += loss.item() * len(rows)
            seen += len(rows)
        epochs.append({'epoch': e + 1, 'loss': total / seen, 'lr': lr, 'terms': {'ce': total / seen},
                       'trainAccuracy': correct / images})
        print(f'torch mobilenetv2 seed {seed}: epoch {e + 1} loss {total / seen:.4f} '
              f'train window accuracy {correct / images:.3f}', file=sys.stderr)
    if 'precise-bn' in variant:
        precise_bn(models, tm, ty, mc, type_of)
    scores, acc = score(exp, models, mc, type_of, local_of, 'hitachi-score' in variant)
    return {'epochs': epochs, 'scores': scores, 'testNormalIdAccuracy': acc}


def precise_bn(models, mels, classes, mc, type_of, batch=16):
    """Running statistics re-estimated with the final weights: a cumulative average over the training clips."""
    for t, m in models.items():
        bns = [b for b in m.modules() if isinstance(b, nn.BatchNorm2d)]
        for b in bns:
            b.reset_running_stats()
            b.momentum = None
        rows = [r for r, g in enumerate(classes) if type_of[g] == t]
        m.train()
        with torch.no_grad():
            for i in range(0, len(rows), batch):
                m(torch.from_numpy(windows(mels[rows[i:i + batch]], mc['window'], mc['hop'])[0]))


def score(exp, models, mc, type_of, local_of, hitachi, batch=16):
    _, em = load_split(exp['test'], exp['config'], exp['clip'])
    ey = [m['classIndex'] for m in exp['test']]
    out = np.zeros(len(ey))
    right = normals = 0
    for m in models.values():
        m.eval()
    with torch.no_grad():
        for i in range(0, len(ey), batch):
            rows = list(range(i, min(i + batch, len(ey))))
            for t, (r, local) in split_by_type(rows, ey, local_of, type_of).items():
                x, n = windows(em[r], mc['window'], mc['hop'])
                logp = F.log_softmax(models[t](torch.from_numpy(x)), 1).numpy().reshape(len(r), n, -1)
                for j, row in enumerate(r):
                    lp = logp[j, :, local[j]].astype(np.float64)
                    # log((1 - p) / p) = log1p(-p) - log p
                    out[row] = (np.log1p(-np.minimum(np.exp(lp), 1 - 1e-12)) - lp).mean() if hitachi else -lp.mean()
                    if exp['test'][row]['label'] == 0:
                        normals += 1
                        right += int(logp[j].mean(0).argmax() == local[j])
    return out.tolist(), right / max(normals, 1)


if __name__ == '__main__':
    run_reference(train, VARIANTS, __doc__)
