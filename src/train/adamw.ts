import * as tf from '@tensorflow/tfjs';
import { fusedAdamW } from '../backend/kernels/adamw.js';

/**
 * AdamW (Loshchilov & Hutter), as torch.optim.AdamW: decoupled weight decay p -= lr * wd * p,
 * then the Adam step with bias correction. tfjs has no AdamW, and its Adam couples nothing we
 * could reuse for decay, so the update is written out. Each parameter may carry a learning-rate
 * multiplier and its own epsilon, like a PyTorch parameter group (the SoftTriple reference trains
 * its centres at 100x the learning rate, with eps 0.01). On wasm one fused kernel
 * does the whole update of a parameter (backend/kernels/adamw.ts); elsewhere the tfjs ops below.
 */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
}

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamW {
  private readonly slots = new Map<string, Slot>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  /** Number of updates done so far (PyTorch's per-parameter `step`, shared here). */
  step = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly opts: AdamWOptions,
    private readonly lrMultipliers: Map<string, number> = new Map(),
    /** Per-parameter epsilon overriding opts.eps. */
    private readonly epsOverrides: Map<string, number> = new Map(),
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    for (const [name, p] of params) {
      this.slots.set(name, {
        m: tf.variable(tf.zerosLike(p), false, `adamw/m/${name}`),
        v: tf.variable(tf.zerosLike(p), false, `adamw/v/${name}`),
      });
    }
  }

  /** Applies one update from gradients keyed like the parameters. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) continue;
        const slot = this.slots.get(name)!;
        const plr = lr * (this.lrMultipliers.get(name) ?? 1);
        const eps = this.epsOverrides.get(name) ?? this.eps;
        const decay = this.opts.weightDecay > 0 ? 1 - plr * this.opts.weightDecay : 1;
        const fused = fusedAdamW(p, slot.m, slot.v, g, {
          beta1: this.beta1,
          beta2: this.beta2,
          eps,
          decay,
          stepSize: plr / bc1,
          bc2,
        });
        if (fused) {
          slot.m.assign(fused[1]!);
          slot.v.assign(fused[2]!);
          p.assign(fused[0]!);
          continue;
        }
        const m = slot.m.mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = slot.v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        const denom = v.div(bc2).sqrt().add(eps);
        const decayed = this.opts.weightDecay > 0 ? p.mul(1 - plr * this.opts.weightDecay) : p;
        p.assign(decayed.sub(m.div(denom).mul(plr / bc1)));
      }
    });
  }

  /** Optimizer state for checkpoints: the moments, keyed `m/<param>` and `v/<param>`. */
  state(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, s] of this.slots) {
      out.set(`m/${name}`, s.m);
      out.set(`v/${name}`, s.v);
    }
    return out;
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
