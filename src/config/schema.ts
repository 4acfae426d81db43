import { z } from 'zod';

/**
 * The experiment YAML (README, Commands). Defaults are the paper's (§2, §3.1); keys the paper leaves
 * open follow the reference code (STgram-MFN and TASTgram repositories) and say so. Every object is strict, so an
 * unknown key at any depth is an error that names it.
 */

const positiveInt = z.number().int().positive();
const unit = z.number().min(0).max(1);
const SYNTH_VERSIONS_MSG = 'expected 1, 2 or 3 (the synthetic generator versions)';

export const LogMelConfig = z
  .strictObject({
    /** §2.1.2: Hann window 2048, hop 512, 128 mel bins. */
    nFft: positiveInt.default(2048),
    hop: positiveInt.default(512),
    nMels: positiveInt.default(128),
    /** The paper gives the HTK formula; TASTgram's code uses slaney (paper-notes). */
    scale: z.enum(['htk', 'slaney']).default('htk'),
    /** Filter normalisation: none (torchaudio default) or slaney (area normalisation, librosa). */
    norm: z.enum(['none', 'slaney']).default('none'),
    /** Centre padding mode: STgram-MFN reflect, TASTgram constant (zeros). */
    pad: z.enum(['reflect', 'constant']).default('reflect'),
    fMin: z.number().min(0).default(0),
    /** null = Nyquist. */
    fMax: z.number().positive().nullable().default(null),
  })
  .prefault({});

export const FgaConfig = z
  .strictObject({
    /** §2.2 fusion weight; the paper does not give its value: 0.5 is our default. */
    lambda: unit.default(0.5),
    /** Kernel of the 1-D conv producing the temporal gate g_t (not given in the paper). */
    timeKernel: positiveInt.default(3),
  })
  .prefault({});

export const DataConfig = z
  .strictObject({
    /** A DCASE 2020 Task 2 root; null = the built-in synthetic set under runs/. */
    root: z.string().nullable().default(null),
    seconds: z.number().positive().default(10),
    maxClipsPerId: positiveInt.nullable().default(null),
    sampleRate: positiveInt.default(16000),
    /** Machine types to use (null = all found). */
    types: z.array(z.string()).nullable().default(null),
    /** Cap on test clips per ID and label, for quick runs (null = all). */
    maxTestClipsPerId: positiveInt.nullable().default(null),
    /**
     * Version of the built-in synthetic generator (used when root is null). A run stored before
     * this key existed used version 1 (see experimentHash in config/hash.ts).
     */
    synthVersion: z.number().int(SYNTH_VERSIONS_MSG).min(1, SYNTH_VERSIONS_MSG).max(3, SYNTH_VERSIONS_MSG).default(3),
  })
  .prefault({});

export const FeaturesConfig = z
  .strictObject({
    /** Registry names; order = channel order (§2.2 fusion: [F_LM, F_T, F_TA, F_S_enh]). */
    branches: z.array(z.string()).min(1).default(['logmel', 'tgram', 'tagram', 'fga-spec']),
    logmel: LogMelConfig,
    fga: FgaConfig,
  })
  .prefault({});

export const ModelConfig = z
  .strictObject({
    backbone: z.string().default('mobilefacenet'),
    /** MobileFaceNet bottleneck table: STgram-MFN's current one or its older one (paper-notes). */
    bottlenecks: z.enum(['current', 'legacy']).default('current'),
    embeddingDim: positiveInt.default(128),
    head: z.string().default('arcface'),
    fusion: z.string().default('concat'),
  })
  .prefault({});

export const ClassificationLossConfig = z.strictObject({
  name: z.string().default('noisy-arcmix'),
  /** ArcFace margin m and scale s (§2.3). */
  margin: z.number().min(0).max(Math.PI / 2).default(0.7),
  scale: z.number().positive().default(30),
  /** Beta(alpha, alpha) for the mixup coefficient (§2.3). */
  alpha: z.number().positive().default(0.5),
});

export const MetricLossConfig = z.strictObject({
  name: z.string().default('softtriple'),
  gamma: z.number().positive().default(0.1),
  lambda: z.number().positive().default(20),
  delta: z.number().min(0).default(0.02),
  K: positiveInt.default(3),
  tau: z.number().min(0).default(0),
  /** lambda_ST in L = L_NAMix + lambda_ST * L_ST (§2.3). */
  weight: z.number().min(0).default(0.15),
  /** The SoftTriple reference trains the centres at 100x the backbone learning rate. */
  lrMultiplier: z.number().positive().default(100),
  /**
   * Adam epsilon of the centres' update. The SoftTriple reference uses 0.01 (for all its
   * parameters); the backbone keeps AdamW's 1e-8 as TASTgram.
   */
  eps: z.number().positive().default(1e-8),
});

export const LossConfig = z
  .strictObject({
    classification: ClassificationLossConfig.nullable().prefault({}),
    metric: MetricLossConfig.nullable().prefault({}),
  })
  .prefault({});

export const TrainConfig = z
  .strictObject({
    optimizer: z.enum(['adamw']).default('adamw'),
    lr: z.number().positive().default(1e-4),
    weightDecay: z.number().min(0).default(0.01),
    epochs: positiveInt.default(300),
    batchSize: positiveInt.default(64),
    /** Cosine annealing as the references (T_max = epochs), or constant. */
    schedule: z.enum(['cosine', 'constant']).default('cosine'),
    /** The cosine floor eta_min as a fraction of lr: TASTgram's code uses 0.1 * lr. */
    etaMinRatio: unit.default(0.1),
    /**
     * An absolute eta_min that overrides etaMinRatio (null = etaMinRatio * lr). Configs stored
     * before etaMinRatio existed hold 1e-5 here, the absolute floor they trained with.
     */
    etaMin: z.number().min(0).nullable().default(null),
    /**
     * Drop the last partial batch of an epoch (PyTorch drop_last). The references keep it
     * (DataLoader's default); a remainder of one clip joins the previous batch (BatchNorm needs two).
     */
    dropLast: z.boolean().default(false),
    /** Fraction of training clips held out for checkpoint selection (TASTgram: 0.05); null = last epoch. */
    valSplit: z.number().gt(0).lt(1).nullable().default(null),
    /** Score the test set every N epochs as well as at the end (null = only at the end). */
    evalEvery: positiveInt.nullable().default(null),
    checkpointEvery: positiveInt.default(1),
    /**
     * Split each batch into micro-batches of this size and accumulate their gradients (memory).
     * null = automatic: the whole batch on the native TensorFlow backends; on wasm / cpu, whose
     * heap is capped at 4 GB, 8 clips of 10 s (more for shorter clips). The forward pass then
     * normalises each micro-batch with its own statistics; the running statistics are updated
     * once per step from the moments pooled over the whole batch.
     */
    microBatch: positiveInt.nullable().default(null),
  })
  .prefault({});

export const EvalConfig = z
  .strictObject({
    /** Apply the ArcFace margin to the clip's own ID when scoring, as both references do. */
    marginAtTest: z.boolean().default(true),
    /** pAUC's max FPR p (§3.1). */
    maxFpr: z.number().gt(0).max(1).default(0.1),
  })
  .prefault({});

/**
 * The baselines of Table 2 each add one optional section with their own keys (absent from the
 * paper's FGASpecNet family, so the configs and hashes of those runs are unchanged: the canonical
 * hash leaves out absent keys). A section is filled with its defaults when `system` names it.
 */

/** AE, the DCASE 2020 Task 2 baseline (Koizumi et al. 2020; y-kawagu/dcase2020_task2_baseline). */
export const AeConfig = z.strictObject({
  /** Consecutive log-Mel frames concatenated into one input vector (baseline `frames: 5`). */
  context: positiveInt.default(5),
  /** Units of each hidden dense layer (baseline: 128). */
  hidden: positiveInt.default(128),
  /** Dense + BatchNorm + ReLU layers on each side of the bottleneck (baseline: 4). */
  layers: positiveInt.default(4),
  /** Bottleneck units (baseline: 8). */
  bottleneck: positiveInt.default(8),
});

/** IDNN (Suefusa et al., ICASSP 2020, arXiv 2005.09234): interpolate the middle frame. */
export const IdnnConfig = z.strictObject({
  /** Frames per window; the middle one is predicted from the others (paper: 5). Odd. */
  context: z.number().int().min(3).refine((n) => n % 2 === 1, 'an odd number of frames').default(5),
  /** Encoder widths; the decoder mirrors them (64 -> 32 -> 16 -> 32 -> 64 gives Table 5's 46 k). */
  hidden: z.array(positiveInt).min(1).default([64, 32, 16]),
});

/** MobileNetV2 machine-ID classifier (Giri et al., DCASE 2020 workshop; Sandler et al. 2018). */
export const MobileNetV2Config = z.strictObject({
  /** Width multiplier alpha: not stated in our sources; 0.65 gives Table 5's 1.1 M (1.07 M with 7 IDs). */
  width: z.number().positive().default(0.65),
  /** Log-Mel frames per window (image width) and hop between windows. */
  window: positiveInt.default(64),
  hop: positiveInt.default(32),
  /** Channels of the last 1x1 conv (MobileNetV2: 1280). */
  lastChannels: positiveInt.default(1280),
});

/** Glow-Aff (Dohi et al., ICASSP 2021, arXiv 2103.08801): Glow with affine coupling. */
export const GlowConfig = z.strictObject({
  /** Log-Mel frames per segment (image width) and hop between segments. */
  segment: positiveInt.default(32),
  hop: positiveInt.default(32),
  /** Multi-scale levels L and flow steps per level K (Glow's CIFAR setting: 3 and 32). */
  levels: positiveInt.default(3),
  steps: positiveInt.default(32),
  /** Hidden channels of each coupling network (Glow: 512). */
  hidden: positiveInt.default(512),
  coupling: z.enum(['affine', 'additive']).default('affine'),
  /** Weight of the self-supervised term: cross-entropy of the ID-conditioned likelihoods over the type's IDs. */
  idWeight: z.number().min(0).default(1),
});

/** Which section belongs to which system (filled with defaults when the system is chosen). */
export const SYSTEM_SECTIONS = { ae: AeConfig, idnn: IdnnConfig, mobilenetv2: MobileNetV2Config, glow: GlowConfig } as const;
/** The system a section serves, when its name differs from the section's. */
const SECTION_SYSTEM: Record<keyof typeof SYSTEM_SECTIONS, string> = { ae: 'ae', idnn: 'idnn', mobilenetv2: 'mobilenetv2', glow: 'glow-aff' };

export const ExperimentConfig = z
  .strictObject({
    name: z.string().min(1).default('fgaspecnet'),
    seed: z.number().int().min(0).default(0),
    /**
     * Registry name of the system (front end + model + objective + scorer). Absent = `classifier`,
     * the FGASpecNet / TASTgram / STgram-MFN family built from features / model / loss.
     */
    system: z.string().min(1).optional(),
    data: DataConfig,
    features: FeaturesConfig,
    model: ModelConfig,
    loss: LossConfig,
    train: TrainConfig,
    eval: EvalConfig,
    ae: AeConfig.optional(),
    idnn: IdnnConfig.optional(),
    mobilenetv2: MobileNetV2Config.optional(),
    glow: GlowConfig.optional(),
  })
  .superRefine((c, ctx) => {
    for (const key of Object.keys(SYSTEM_SECTIONS) as Array<keyof typeof SYSTEM_SECTIONS>) {
      if (c[key] !== undefined && c.system !== SECTION_SYSTEM[key]) {
        ctx.addIssue({ code: 'custom', path: [key], message: `only read by system ${SECTION_SYSTEM[key]} (this config's system is ${c.system ?? 'classifier'})` });
      }
    }
  })
  .transform((c) => {
    for (const key of Object.keys(SYSTEM_SECTIONS) as Array<keyof typeof SYSTEM_SECTIONS>) {
      if (c.system === SECTION_SYSTEM[key] && c[key] === undefined) Object.assign(c, { [key]: SYSTEM_SECTIONS[key].parse({}) });
    }
    return c;
  });

export type ExperimentConfig = z.infer<typeof ExperimentConfig>;
export type LogMelConfig = z.infer<typeof LogMelConfig>;
export type DataConfig = z.infer<typeof DataConfig>;
export type FeaturesConfig = z.infer<typeof FeaturesConfig>;
export type ModelConfig = z.infer<typeof ModelConfig>;
export type ClassificationLossConfig = z.infer<typeof ClassificationLossConfig>;
export type MetricLossConfig = z.infer<typeof MetricLossConfig>;
export type TrainConfig = z.infer<typeof TrainConfig>;
export type EvalConfig = z.infer<typeof EvalConfig>;
export type AeConfig = z.infer<typeof AeConfig>;
export type IdnnConfig = z.infer<typeof IdnnConfig>;
export type MobileNetV2Config = z.infer<typeof MobileNetV2Config>;
export type GlowConfig = z.infer<typeof GlowConfig>;
