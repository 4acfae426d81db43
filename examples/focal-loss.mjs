// A classification loss of your own, in a file outside src/: exp loads it with
//   exp run experiments/x.yaml --plugin examples/focal-loss.mjs --set loss.classification.name=focal-cosface
// or `plugins: [./focal-loss.mjs]` in an experiment or sweep YAML (relative to that YAML).
//
// The default export receives the registration API (the same one the built-in parts use). It
// brings its own config keys: `gamma` joins the loss.classification block when this loss is
// named there, and is an unknown key otherwise. Use `exp.tf` and `exp.z` (the instances exp runs
// on) rather than importing @tensorflow/tfjs or zod yourself.
//
// The loss: focal loss (Lin et al., ICCV 2017) on CosFace logits (Wang et al., CVPR 2018),
//   logits = s * (cos(theta) - m * onehot(y)),  L = -mean((1 - p_y)^gamma * log p_y),
// with s = loss.classification.scale and m = loss.classification.margin. No mixup.
export default function register(exp) {
  const { tf, z } = exp;
  exp.registerClassificationLoss('focal-cosface', {
    schema: z.strictObject({
      /** Focusing parameter: 0 gives plain cross-entropy on the CosFace logits. */
      gamma: z.number().min(0).default(2),
    }),
    create: (cfg) => ({
      name: 'focal-cosface',
      mixup: false,
      alpha: cfg.alpha,
      compute: (emb, weights, targets) =>
        tf.tidy(() => {
          const unit = (x) => x.div(x.norm('euclidean', 1, true).maximum(1e-12));
          const cos = tf.matMul(unit(emb), unit(weights), false, true);
          const onehot = tf.oneHot(targets.labelsA, weights.shape[0]);
          const logp = tf.logSoftmax(cos.sub(onehot.mul(cfg.margin)).mul(cfg.scale));
          const logpTrue = logp.mul(onehot).sum(1);
          const focus = tf.scalar(1).sub(logpTrue.exp()).maximum(0).pow(cfg.gamma);
          return focus.mul(logpTrue).neg().mean();
        }),
    }),
  });
}
