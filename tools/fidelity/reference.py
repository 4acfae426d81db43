#!/usr/bin/env python3
"""Dev-only PyTorch reference of FGASpecNet for the fidelity harness (npm run fidelity; never a
dependency of exp). PyTorch 1.13 CPU at /usr/bin/python3, numpy; WAVs read with `wave`.

It replays one exp run (tools/fidelity/exp-side.ts wrote <dir>/exp.json) with the same
architecture, initialisation scheme, loss, optimiser, schedule, data order and mixup draws, and
writes <dir>/torch-<init>.json (per-epoch loss, test scores, BatchNorm running statistics).

  --init torch   PyTorch's own initialisers, seeded by torch.manual_seed(seed), written as the
                 reference code does (MobileFaceNet's N(0, sqrt(2 / (k k out))) loop, nn defaults
                 elsewhere, Xavier-uniform ArcFace weight, SoftTriple's kaiming_uniform centres)
  --init exp     exp's initial weights (<dir>/init.bin): the two runs then differ only by how
                 they compute
  --rescore      no training: exp's trained weights (final.bin) scored here, against exp's scores
  --probe        no training: one step's loss, terms and gradients at exp's initial weights on
                 exp's first planned batch, compared with <dir>/probe.bin (exp-side --probe)

  /usr/bin/python3 tools/fidelity/reference.py --dir runs/fidelity/v3-s0/seed-0 --init torch
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


from refcommon import claim, load_split, lr_at  # shared with the other references


# ---------------------------------------------------------------- model (STgram-MFN / TASTgram style)

class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k, s, p, dw=False, linear=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, groups=cin if dw else 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.prelu = None if linear else nn.PReLU(cout)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)


class Bottleneck(nn.Module):
    def __init__(self, cin, cout, s, t):
        super().__init__()
        self.connect = s == 1 and cin == cout
        h = cin * t
        self.expand = ConvBlock(cin, h, 1, 1, 0)
        self.dw = ConvBlock(h, h, 3, s, 1, dw=True)
        self.project = ConvBlock(h, cout, 1, 1, 0, linear=True)

    def forward(self, x):
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.connect else y


TABLES = {'current': [(2, 128, 2, 2), (4, 128, 2, 2), (4, 128, 2, 2)],
          'legacy': [(2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1)]}


def conv_out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


class MobileFaceNet(nn.Module):
    def __init__(self, cin, h, w, emb, table):
        super().__init__()
        self.stem_conv = ConvBlock(cin, 64, 3, 2, 1)
        self.stem_dw = ConvBlock(64, 64, 3, 1, 1, dw=True)
        h, w = conv_out(h, 3, 2, 1), conv_out(w, 3, 2, 1)
        blocks, c = [], 64
        for t, out, n, s in TABLES[table]:
            for i in range(n):
                blocks.append(Bottleneck(c, out, s if i == 0 else 1, t))
                c = out
            h, w = conv_out(h, 3, s, 1), conv_out(w, 3, s, 1)
        self.blocks = nn.ModuleList(blocks)
        self.head_conv = ConvBlock(c, 512, 1, 1, 0)
        self.head_gdc = ConvBlock(512, 512, (h, w), 1, 0, dw=True, linear=True)
        self.head_embed = ConvBlock(512, emb, 1, 1, 0, linear=True)
        # STgram-MFN net.py's init loop (MobileFaceNet only).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def forward(self, x):
        x = self.stem_dw(self.stem_conv(x))
        for b in self.blocks:
            x = b(x)
        return self.head_embed(self.head_gdc(self.head_conv(x))).flatten(1)


class Tgram(nn.Module):
    def __init__(self, mel, frames, hop):
        super().__init__()
        self.conv0 = nn.Conv1d(1, mel, 1024, hop, 512, bias=False)
        self.ln = nn.ModuleList([nn.LayerNorm(frames) for _ in range(3)])
        self.convs = nn.ModuleList([nn.Conv1d(mel, mel, 3, 1, 1, bias=False) for _ in range(3)])

    def forward(self, wave):
        x = self.conv0(wave.unsqueeze(1))
        for ln, conv in zip(self.ln, self.convs):
            x = conv(F.leaky_relu(ln(x), 0.2))
        return x


def temporal_attention(lm):
    return torch.sigmoid(lm.mean(1, keepdim=True) + lm.amax(1, keepdim=True)) * lm


class FgaSpec(nn.Module):
    """SpecNet with torch.fft (F_S = real(IFFT2(F^ + S^))) and the frequency / time gates (paper 2.1.4, 2.2)."""

    def __init__(self, mel, frames, lam, kernel):
        super().__init__()
        self.c1 = nn.Parameter(torch.randn(2, mel, frames) * 0.02)
        self.c2 = nn.Parameter(torch.randn(2, mel, frames) * 0.02)
        self.bn_re, self.bn_im = nn.BatchNorm2d(1), nn.BatchNorm2d(1)
        self.gate_f = nn.Linear(2 * mel, mel)
        self.gate_t = nn.Conv1d(1, 1, kernel, 1, kernel // 2)
        self.lam = lam

    def forward(self, lm):
        f = torch.fft.fft2(lm)
        s = f * torch.complex(self.c1[0], self.c1[1])
        s = torch.complex(torch.tanh(self.bn_re(s.real.unsqueeze(1)).squeeze(1)),
                          torch.tanh(self.bn_im(s.imag.unsqueeze(1)).squeeze(1)))
        fs = torch.fft.ifft2(f + s * torch.complex(self.c2[0], self.c2[1])).real
        ta = temporal_attention(lm)
        gf = torch.sigmoid(self.gate_f(torch.cat([ta.amax(2), ta.mean(2)], 1)))
        gt = torch.sigmoid(self.gate_t(ta.mean(1, keepdim=True))).squeeze(1)
        g = self.lam * gf.unsqueeze(2) * gt.unsqueeze(1)
        return (1 - g) * lm + g * fs


class FGASpecNet(nn.Module):
    def __init__(self, cfg, clip, classes):
        super().__init__()
        M, T = clip['nMels'], clip['frames']
        branches = cfg['features']['branches']
        assert branches == ['logmel', 'tgram', 'tagram', 'fga-spec'], branches
        fga = cfg['features']['fga']
        mc = cfg['model']
        self.tgram = Tgram(M, T, clip['hop'])
        self.fga = FgaSpec(M, T, fga['lambda'], fga['timeKernel'])
        self.backbone = MobileFaceNet(len(branches), M, T, mc['embeddingDim'], mc['bottlenecks'])
        self.head = nn.Parameter(nn.init.xavier_uniform_(torch.empty(classes, mc['embeddingDim'])))

    def forward(self, wave, lm):
        x = torch.stack([lm, self.tgram(wave), temporal_attention(lm), self.fga(lm)], 1)
        return self.backbone(x)


# ---------------------------------------------------------------- losses (paper 2.3, reference code)

def arcface_logits(emb, w, labels, m, s):
    """STgram-MFN / TASTgram ArcMarginProduct (easy_margin off); labels None = no margin."""
    cosine = F.linear(F.normalize(emb), F.normalize(w))
    if labels is None:
        return s * cosine
    sine = torch.sqrt((1.0 - cosine * cosine).clamp(0, 1))
    phi = cosine * math.cos(m) - sine * math.sin(m)
    phi = torch.where(cosine > math.cos(math.pi - m), phi, cosine - math.sin(math.pi - m) * m)
    one_hot = F.one_hot(labels, w.shape[0]).float()
    return s * (one_hot * phi + (1 - one_hot) * cosine)


def softtriple_similarity(emb, centers, K, gamma):
    sim = (F.normalize(emb) @ F.normalize(centers).t()).view(emb.shape[0], -1, K)
    return (F.softmax(sim / gamma, dim=2) * sim).sum(2)


# Deliberate departures from exp's choices, to measure what a choice is worth (--variant a,b):
#   st-unmixed   SoftTriple on label A only (tools/bench_torch.py), not lambda-mixed
#   centres-lr1  SoftTriple centres at the backbone's learning rate, not loss.metric.lrMultiplier x
#   centres-eps  Adam epsilon 0.01 for the centres (the SoftTriple reference's), not loss.metric.eps
VARIANTS = ('st-unmixed', 'centres-lr1', 'centres-eps')
VARIANT = set()


def objective(emb, head, centers, la, lb, lam, cfg):
    cls, met = cfg['loss']['classification'], cfg['loss']['metric']
    assert cls['name'] == 'noisy-arcmix' and met['name'] == 'softtriple'
    logits = arcface_logits(emb, head, la, cls['margin'], cls['scale'])
    ce_a = F.cross_entropy(logits, la, reduction='none')
    ce_b = F.cross_entropy(logits, lb, reduction='none')
    l_cls = (lam * ce_a + (1 - lam) * ce_b).mean()
    S = softtriple_similarity(emb, centers, met['K'], met['gamma'])
    C = S.shape[1]

    def st(y):
        return F.cross_entropy(met['lambda'] * (S - met['delta'] * F.one_hot(y, C).float()), y, reduction='none')

    # exp mixes SoftTriple's targets with the same lambda (src/losses/softtriple.ts); the variant
    # 'st-unmixed' (as tools/bench_torch.py) uses label A only.
    l_met = st(la).mean() if 'st-unmixed' in VARIANT else (lam * st(la) + (1 - lam) * st(lb)).mean()
    assert met['tau'] == 0
    return l_cls + met['weight'] * l_met, l_cls, l_met


# ---------------------------------------------------------------- exp's weights <-> this model

def exp_mapping(model, centers):
    """exp weight name -> (torch tensor, convert exp array -> torch layout)."""
    out = {}
    conv2d = lambda a: a.transpose(3, 2, 0, 1)      # [kh, kw, cin, cout] -> [cout, cin, kh, kw]
    dwconv = lambda a: a.transpose(2, 3, 0, 1)      # [kh, kw, C, 1] -> [C, 1, kh, kw]
    conv1d = lambda a: a.transpose(2, 1, 0)         # [k, cin, cout] -> [cout, cin, k]
    same = lambda a: a
    tg = model.tgram
    out['param/tgram/conv0/w'] = (tg.conv0.weight, conv1d)
    for i in range(3):
        out[f'param/tgram/ln{i + 1}/gamma'] = (tg.ln[i].weight, same)
        out[f'param/tgram/ln{i + 1}/beta'] = (tg.ln[i].bias, same)
        out[f'param/tgram/conv{i + 1}/w'] = (tg.convs[i].weight, conv1d)
    fg = model.fga
    for c in ('c1', 'c2'):
        out[f'param/fga-spec/{c}/re'] = (getattr(fg, c)[0], same)
        out[f'param/fga-spec/{c}/im'] = (getattr(fg, c)[1], same)
    for part, bn in (('re', fg.bn_re), ('im', fg.bn_im)):
        out[f'param/fga-spec/bn/{part}/gamma'] = (bn.weight, same)
        out[f'param/fga-spec/bn/{part}/beta'] = (bn.bias, same)
        out[f'state/fga-spec/bn/{part}/runningMean'] = (bn.running_mean, same)
        out[f'state/fga-spec/bn/{part}/runningVar'] = (bn.running_var, same)
    out['param/fga-spec/gate/freq/w'] = (fg.gate_f.weight, lambda a: a.T)
    out['param/fga-spec/gate/freq/b'] = (fg.gate_f.bias, same)
    out['param/fga-spec/gate/time/w'] = (fg.gate_t.weight, conv1d)
    out['param/fga-spec/gate/time/b'] = (fg.gate_t.bias, same)
    bb = model.backbone

    def block(prefix, b):
        dw = b.conv.groups > 1
        out[f'param/mobilefacenet/{prefix}/w'] = (b.conv.weight, dwconv if dw else conv2d)
        out[f'param/mobilefacenet/{prefix}/bn/gamma'] = (b.bn.weight, same)
        out[f'param/mobilefacenet/{prefix}/bn/beta'] = (b.bn.bias, same)
        out[f'state/mobilefacenet/{prefix}/bn/runningMean'] = (b.bn.running_mean, same)
        out[f'state/mobilefacenet/{prefix}/bn/runningVar'] = (b.bn.running_var, same)
        if b.prelu is not None:
            out[f'param/mobilefacenet/{prefix}/prelu'] = (b.prelu.weight, same)

    block('stem/conv', bb.stem_conv)
    block('stem/dw', bb.stem_dw)
    for i, b in enumerate(bb.blocks):
        block(f'block{i}/expand', b.expand)
        block(f'block{i}/dw', b.dw)
        block(f'block{i}/project', b.project)
    block('head/conv', bb.head_conv)
    block('head/gdc', bb.head_gdc)
    block('head/embed', bb.head_embed)
    out['param/arcface/weight'] = (model.head, same)
    out['param/softtriple.centers'] = (centers, same)
    return out


def read_tensors(base):
    entries = json.load(open(base + '.json'))
    data = np.fromfile(base + '.bin', dtype='<f4')
    return {e['name']: data[e['offset']:e['offset'] + int(np.prod(e['shape']))].reshape(e['shape']) for e in entries}


def load_exp_weights(mapping, tensors):
    names = {k for k in tensors if k.startswith('param/') or k.startswith('state/')}
    missing = names ^ set(mapping)
    if missing:
        sys.exit(f'reference.py: exp and reference weights differ by name: {sorted(missing)[:8]}')
    with torch.no_grad():
        for name, (t, conv) in mapping.items():
            a = np.ascontiguousarray(conv(tensors[name]))
            if tuple(a.shape) != tuple(t.shape):
                sys.exit(f'reference.py: {name}: exp {a.shape} vs torch {tuple(t.shape)}')
            t.copy_(torch.from_numpy(a))


def state_dump(mapping):
    return {k: t.detach().numpy().ravel().tolist() for k, (t, _) in mapping.items() if k.startswith('state/')}


# ---------------------------------------------------------------- training and scoring

def mixed(arr, rows, partners, lam):
    # float64 blend rounded once to float32, as exp's makeInputs does.
    a = arr[rows].astype(np.float64)
    if lam == 1:
        return torch.from_numpy(a.astype(np.float32))
    return torch.from_numpy((lam * a + (1 - lam) * arr[partners].astype(np.float64)).astype(np.float32))


def build(exp, init, seed):
    cfg, clip = exp['config'], exp['clip']
    torch.manual_seed(seed)
    model = FGASpecNet(cfg, clip, exp['numClasses'])
    met = cfg['loss']['metric']
    n = exp['numClasses'] * met['K']
    # SoftTriple reference: Parameter [D, C*K], kaiming_uniform_(a=sqrt(5)); exp keeps it as [C*K, D].
    centers = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(cfg['model']['embeddingDim'], n), a=math.sqrt(5)).t().contiguous())
    mapping = exp_mapping(model, centers)
    return model, centers, mapping


def optimizer(exp, model, centers):
    tc, met = exp['config']['train'], exp['config']['loss']['metric']
    eps_c = 0.01 if 'centres-eps' in VARIANT else exp['adamEpsilons'].get('softtriple.centers', 1e-8)
    mult = 1.0 if 'centres-lr1' in VARIANT else float(met['lrMultiplier'])
    # exp's AdamW decays every trained weight (BatchNorm, PReLU, biases, head, centres alike).
    return torch.optim.AdamW([
        {'params': list(model.parameters()), 'mult': 1.0, 'eps': 1e-8},
        {'params': [centers], 'mult': mult, 'eps': eps_c},
    ], lr=tc['lr'], betas=(0.9, 0.999), weight_decay=tc['weightDecay'])


def score(model, head, waves, mels, labels, cfg, batch=16):
    cls = cfg['loss']['classification']
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            y = torch.from_numpy(labels[i:i + batch]).long()
            emb = model(torch.from_numpy(waves[i:i + batch]), torch.from_numpy(mels[i:i + batch]))
            logits = arcface_logits(emb, head, y if cfg['eval']['marginAtTest'] else None, cls['margin'], cls['scale'])
            out.extend(F.cross_entropy(logits, y, reduction='none').tolist())
    model.train()
    return out


def train(exp, init, seed, threads):
    torch.set_num_threads(threads)
    cfg = exp['config']
    model, centers, mapping = build(exp, init, seed)
    if init == 'exp':
        load_exp_weights(mapping, read_tensors(os.path.join(exp['_dir'], 'init')))
    opt = optimizer(exp, model, centers)
    tw, tm = load_split(exp['train'], cfg, exp['clip'])
    ty = np.array([m['classIndex'] for m in exp['train']])
    epochs = []
    model.train()
    for e, plan in enumerate(exp['plan']):
        lr = lr_at(cfg['train'], e)
        for g in opt.param_groups:
            g['lr'] = lr * g['mult']
        total = cls_sum = met_sum = seen = 0.0
        for step in plan:
            rows, partners, lam = step['rows'], step['partners'], step['lam']
            la = torch.from_numpy(ty[rows]).long()
            lb = torch.from_numpy(ty[partners]).long()
            emb = model(mixed(tw, rows, partners, lam), mixed(tm, rows, partners, lam))
            loss, lc, lmet = objective(emb, model.head, centers, la, lb, lam, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):
                sys.exit(f'reference.py: loss became {loss.item()} at epoch {e + 1}')
            n = len(rows)
            total += loss.item() * n
            cls_sum += lc.item() * n
            met_sum += lmet.item() * n
            seen += n
        epochs.append({'epoch': e + 1, 'loss': total / seen, 'terms': {'cls': cls_sum / seen, 'metric': met_sum / seen}, 'lr': lr})
        print(f'torch seed {seed} ({init} init): epoch {e + 1} loss {total / seen:.4f}', file=sys.stderr)
    ew, em = load_split(exp['test'], cfg, exp['clip'])
    ey = np.array([m['classIndex'] for m in exp['test']])
    scores = score(model, model.head, ew, em, ey, cfg)
    return {'init': init, 'epochs': epochs, 'scores': scores, 'state': state_dump(mapping),
            'torch': torch.__version__, 'threads': threads}


# ---------------------------------------------------------------- probe: one step, same weights

def probe(exp, threads):
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)
    cfg = exp['config']
    model, centers, mapping = build(exp, 'exp', 0)
    load_exp_weights(mapping, read_tensors(os.path.join(exp['_dir'], 'init')))
    got = read_tensors(os.path.join(exp['_dir'], 'probe-tensors'))
    step = exp['plan'][0][0]
    rows, partners, lam = step['rows'], step['partners'], step['lam']
    tw, tm = load_split([exp['train'][i] for i in sorted(set(rows) | set(partners))], cfg, exp['clip'])
    pos = {r: i for i, r in enumerate(sorted(set(rows) | set(partners)))}
    ty = np.array([m['classIndex'] for m in exp['train']])
    wave = mixed(tw, [pos[r] for r in rows], [pos[r] for r in partners], lam)
    lm = mixed(tm, [pos[r] for r in rows], [pos[r] for r in partners], lam)
    report = {'input/wave maxAbsDiff': float((wave - torch.from_numpy(got['input/wave'])).abs().max()),
              'input/logmel maxAbsDiff (dB)': float((lm - torch.from_numpy(got['input/logmel'])).abs().max())}
    # From here on the same inputs as exp, so only the model and loss are compared.
    wave, lm = torch.from_numpy(got['input/wave'].copy()), torch.from_numpy(got['input/logmel'].copy())
    model.train()
    emb = model(wave, lm)
    loss, lc, lmet = objective(emb, model.head, centers, torch.from_numpy(ty[rows]).long(), torch.from_numpy(ty[partners]).long(), lam, cfg)
    loss.backward()
    pj = json.load(open(os.path.join(exp['_dir'], 'probe.json')))
    report['loss'] = {'exp': pj['loss'], 'torch': loss.item(), 'cls': [pj['terms']['cls'], lc.item()], 'metric': [pj['terms']['metric'], lmet.item()]}
    e_exp = got['embedding']
    report['embedding relDiff'] = float(np.abs(emb.detach().numpy() - e_exp).max() / np.abs(e_exp).max())
    grads = []
    for name, (t, conv) in mapping.items():
        if not name.startswith('param/'):
            continue
        g_exp = got.get('grad/' + name[len('param/'):])
        g_t = t.grad
        if name.startswith('param/fga-spec/c'):  # a slice of the complex weight's [2, M, T] parameter
            c = getattr(model.fga, name.split('/')[2])
            g_t = c.grad[0 if name.endswith('/re') else 1]
        if g_exp is None or g_t is None:
            grads.append((name, None, None, None))
            continue
        a = np.ascontiguousarray(conv(g_exp)).ravel()
        b = g_t.detach().numpy().ravel()
        rel = float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))
        cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))
        grads.append((name, rel, cos, float(np.linalg.norm(b))))
    report['grads'] = [{'name': n, 'relErr': r, 'cosine': c, 'torchNorm': nb} for n, r, c, nb in grads]
    bn = []
    for name, (t, conv) in mapping.items():
        if name.startswith('state/'):
            a = got['bnAfterOneStep/' + name[len('state/'):]].ravel()
            b = t.detach().numpy().ravel()
            bn.append({'name': name, 'maxAbsDiff': float(np.abs(a - b).max()), 'scale': float(np.abs(b).max())})
    report['bnAfterOneStep'] = bn
    return report


def rescore(exp, threads):
    """exp's trained weights and BatchNorm state (final.bin) scored by the reference's evaluation mode."""
    torch.set_num_threads(threads)
    cfg = exp['config']
    model, centers, mapping = build(exp, 'exp', 0)
    load_exp_weights(mapping, read_tensors(os.path.join(exp['_dir'], 'final')))
    ew, em = load_split(exp['test'], cfg, exp['clip'])
    ey = np.array([m['classIndex'] for m in exp['test']])
    mine = np.array(score(model, model.head, ew, em, ey, cfg))
    theirs = np.array(json.load(open(os.path.join(exp['_dir'], 'exp.json')))['scores'])
    return {'scores': mine.tolist(), 'maxAbsDiff': float(np.abs(mine - theirs).max()),
            'maxRelDiff': float((np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1e-6)).max()),
            'corr': float(np.corrcoef(mine, theirs)[0, 1])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--init', choices=['torch', 'exp'], default='torch')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--variant', default='', help='comma-separated departures from exp (see VARIANTS)')
    ap.add_argument('--probe', action='store_true')
    ap.add_argument('--rescore', action='store_true', help="score exp's final weights (exp.json, final.bin) in PyTorch")
    a = ap.parse_args()
    exp = json.load(open(os.path.join(a.dir, 'setup.json')))
    exp['_dir'] = a.dir
    if a.rescore:
        json.dump(rescore(exp, a.threads), open(os.path.join(a.dir, 'rescore-torch.json'), 'w'))
        return
    if a.probe:
        json.dump(probe(exp, a.threads), open(os.path.join(a.dir, 'probe-torch.json'), 'w'), indent=1)
        return
    VARIANT.update(v for v in a.variant.split(',') if v)
    if VARIANT - set(VARIANTS):
        sys.exit(f'reference.py: --variant {a.variant}: expected some of {", ".join(VARIANTS)}')
    name = f'torch-{a.init}' + ''.join(f'+{v}' for v in sorted(VARIANT))
    result = os.path.join(a.dir, f'{name}.json')
    if not claim(result + '.running', result):
        print(f'reference.py: {result} is done or being done by another process', file=sys.stderr)
        return
    try:
        t0 = time.time()
        res = train(exp, a.init, exp['config']['seed'], a.threads)
        res['variant'] = sorted(VARIANT)
        res['seconds'] = time.time() - t0
        json.dump(res, open(result, 'w'))
    finally:
        os.remove(result + '.running')



if __name__ == '__main__':
    main()
