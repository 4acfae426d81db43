import { z } from 'zod';

/**
 * The experiment YAML (docs/config.md). Defaults are the paper's (§2, §3.1); keys the paper leaves
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
    /** The paper gives the HTK formula; TASTgram's code uses slaney (its feature extraction). */
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
    /** MobileFaceNet bottleneck table: STgram-MFN's current one or the older one (`legacy`), both from its reference code. */
    bottlenecks: z.enum(['current', 'legacy']).default('current'),
    embeddingDim: positiveInt.default(128),
    head: z.string().default('arcface'),
    fusion: z.string().default('concat'),
  })
  .prefault({});

export const ClassificationLossConfig = z.strictObject({
  name: z.string().default('noisy-arcmix'),
  /** ArcFace margin m and scale s (§2.3). */
  margin: z
    .number()
    .min(0)
    .max(Math.PI / 2)
    .default(0.7),
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
 * A content-addressed plug-in file a config was built with (`--plugin`, `plugins:`): its absolute
 * path on the host that stored the run, and the sha256 of its bytes. Absent without plug-ins, so
 * the configs and hashes of runs that use none are unchanged.
 */
export const PluginRef = z.strictObject({
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 of 64 hex digits'),
});
export type PluginRef = z.infer<typeof PluginRef>;

/** The sections every config has (the run, its data, the classifier family's parts, training). */
const BASE_SHAPE = {
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
  plugins: z.array(PluginRef).min(1).optional(),
};

/** The experiment config the built-in sections describe; parts' own sections are read with `partSection`. */
const BaseExperiment = z.strictObject(BASE_SHAPE);

/**
 * A config section owned by a registered part (a system's `ae:`, a plug-in branch's
 * `features.<name>:`), declared beside its factory. It is optional, filled with its defaults when
 * its part is chosen, and an error when it is not (nobody would read it). Sections are absent
 * from configs that do not choose their part, so those configs and their hashes are unchanged.
 */
export interface PartSection {
  /** The object the section sits in: the top level, `features` or `model`. */
  at: 'top' | 'features' | 'model';
  key: string;
  schema: z.ZodObject;
  /** Whether the part is chosen, given the object the section sits in (before defaults of this section). */
  chosen: (parent: Record<string, unknown>) => boolean;
  /** Why the section is refused when its part is not chosen, e.g. "only read by system ae (...)". */
  unused: (parent: Record<string, unknown>) => string;
}

/** What the registered parts add to the experiment schema (src/registry/catalog.ts collects it). */
export interface SchemaExtensions {
  sections: readonly PartSection[];
  /** Keys a named classification loss adds to `loss.classification` (beside name, margin, scale, alpha). */
  classificationLoss: ReadonlyMap<string, z.ZodObject>;
  /** Keys a named metric loss adds to `loss.metric`. */
  metricLoss: ReadonlyMap<string, z.ZodObject>;
}

export const NO_EXTENSIONS: SchemaExtensions = { sections: [], classificationLoss: new Map(), metricLoss: new Map() };

type Obj = Record<string, unknown>;

/** Adds the optional sections of `at` to a strict object; checks and fills them by their part. */
function withSections<T extends z.ZodObject>(
  object: T,
  sections: readonly PartSection[],
): z.ZodType<z.output<T>, z.input<T>> {
  if (sections.length === 0) return object as unknown as z.ZodType<z.output<T>, z.input<T>>;
  const shape = Object.fromEntries(sections.map((s) => [s.key, s.schema.optional()]));
  return object
    .extend(shape)
    .superRefine((c: Obj, ctx) => {
      for (const s of sections)
        if (c[s.key] !== undefined && !s.chosen(c))
          ctx.addIssue({ code: 'custom', path: [s.key], message: s.unused(c) });
    })
    .transform((c: Obj) => {
      for (const s of sections)
        if (s.chosen(c) && c[s.key] === undefined) Object.assign(c, { [s.key]: s.schema.parse({}) });
      return c;
    }) as unknown as z.ZodType<z.output<T>, z.input<T>>;
}

/**
 * A named loss block (`loss.classification`, `loss.metric`): the shared keys plus the keys the
 * named loss declares. A name no part declares keys for is parsed with the shared keys alone; an
 * unknown name is the registry's error, which lists what exists.
 */
function lossBlock<T extends z.ZodObject>(
  base: T,
  extras: ReadonlyMap<string, z.ZodObject>,
  defaultName: string,
): z.ZodType<z.output<T>, z.input<T>> {
  if (extras.size === 0) return base as unknown as z.ZodType<z.output<T>, z.input<T>>;
  return z.unknown().transform((v, ctx) => {
    const name =
      typeof v === 'object' && v !== null && typeof (v as Obj)['name'] === 'string'
        ? ((v as Obj)['name'] as string)
        : defaultName;
    const extra = extras.get(name);
    const r = (extra ? base.extend(extra.shape) : base).safeParse(v);
    if (r.success) return r.data as z.output<T>;
    for (const issue of r.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }) as unknown as z.ZodType<z.output<T>, z.input<T>>;
}

/**
 * The experiment schema, composed from the built-in sections and what the registered parts
 * declare. Strict at every depth: an unknown key, a part's included, is an error naming it.
 */
export function composeExperimentSchema(ext: SchemaExtensions = NO_EXTENSIONS): z.ZodType<ExperimentConfig, unknown> {
  const at = (where: PartSection['at']) => ext.sections.filter((s) => s.at === where);
  const loss = z
    .strictObject({
      classification: lossBlock(ClassificationLossConfig, ext.classificationLoss, 'noisy-arcmix')
        .nullable()
        .prefault({}),
      metric: lossBlock(MetricLossConfig, ext.metricLoss, 'softtriple').nullable().prefault({}),
    })
    .prefault({});
  const shape = {
    ...BASE_SHAPE,
    features: withSections(FeaturesConfig.unwrap(), at('features')).prefault({}),
    model: withSections(ModelConfig.unwrap(), at('model')).prefault({}),
    loss,
  };
  return withSections(z.strictObject(shape), at('top')) as unknown as z.ZodType<ExperimentConfig, unknown>;
}

/** The experiment schema of the built-in sections alone (parts' sections: see composeExperimentSchema). */
export const ExperimentConfig = composeExperimentSchema();

/**
 * A part's own section of a config (`ae`, `features.delta`), typed by the part that declared it.
 * The composed schema filled it when the part was chosen.
 */
export function partSection<T>(config: ExperimentConfig, key: string, at: PartSection['at'] = 'top'): T {
  const parent = (at === 'top' ? config : config[at]) as unknown as Obj;
  const value = parent[key];
  if (value === undefined)
    throw new Error(
      `config section ${at === 'top' ? '' : `${at}.`}${key} is missing (was the config validated with the catalog that registers its part?)`,
    );
  return value as T;
}

export type ExperimentConfig = z.infer<typeof BaseExperiment>;
export type LogMelConfig = z.infer<typeof LogMelConfig>;
export type DataConfig = z.infer<typeof DataConfig>;
export type FeaturesConfig = z.infer<typeof FeaturesConfig>;
export type ModelConfig = z.infer<typeof ModelConfig>;
export type ClassificationLossConfig = z.infer<typeof ClassificationLossConfig>;
export type MetricLossConfig = z.infer<typeof MetricLossConfig>;
export type TrainConfig = z.infer<typeof TrainConfig>;
export type EvalConfig = z.infer<typeof EvalConfig>;
