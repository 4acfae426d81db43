import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Registry } from './registry.js';
import {
  composeExperimentSchema,
  type ExperimentConfig,
  type PartSection,
  type SchemaExtensions,
} from '../config/schema.js';
import type {
  BackboneFactory,
  BranchFactory,
  ClassificationLossFactory,
  FusionFactory,
  HeadFactory,
  MetricLossFactory,
  PartRegistries,
} from './parts.js';
import type { SystemDefinition } from '../systems/types.js';
import { BaseModule } from '../model/module.js';
import { UserError } from '../util/errors.js';

/**
 * The catalog of parts: one named Registry per family, and the config sections and schemas the
 * parts declare. Built-ins and plug-ins fill it through the same API (PartsApi), from an explicit
 * list of plug-in functions (src/parts/builtin.ts, then the user's files); nothing registers on
 * import. The experiment schema is composed from what it holds (composeExperimentSchema).
 */

/** Every family's registry: the model's parts and the systems. */
export interface Parts extends PartRegistries {
  readonly systems: Registry<SystemDefinition>;
}

/**
 * A part with a config section of its own: `schema` is a zod object (made with `exp.z`), checked
 * strictly. A branch's section is `features.<name>`, a fusion's, backbone's or head's
 * `model.<name>`; a loss's keys sit in its own block (`loss.classification: {name: focal, gamma: 2}`).
 */
export interface PartSpec<F> {
  create: F;
  schema?: z.ZodObject;
}

export interface RegisterOptions {
  /** Replace a part of the same name on purpose (otherwise a duplicate name is an error). */
  force?: boolean;
}

/**
 * What a plug-in's function receives (`export default function (exp) { exp.registerLoss(...) }`).
 * `tf` and `z` are the instances exp runs on: a plug-in file outside the package uses them rather
 * than importing its own copies (a second tfjs has its own backend and tensors).
 */
export interface PartsApi {
  registerBranch(name: string, part: BranchFactory | PartSpec<BranchFactory>, opts?: RegisterOptions): void;
  registerFusion(name: string, part: FusionFactory | PartSpec<FusionFactory>, opts?: RegisterOptions): void;
  registerBackbone(name: string, part: BackboneFactory | PartSpec<BackboneFactory>, opts?: RegisterOptions): void;
  registerHead(name: string, part: HeadFactory | PartSpec<HeadFactory>, opts?: RegisterOptions): void;
  /** A classification loss (`loss.classification.name`); its schema adds keys to that block. */
  registerClassificationLoss(
    name: string,
    part: ClassificationLossFactory | PartSpec<ClassificationLossFactory>,
    opts?: RegisterOptions,
  ): void;
  /** Same as registerClassificationLoss (the loss the head is trained with). */
  registerLoss(
    name: string,
    part: ClassificationLossFactory | PartSpec<ClassificationLossFactory>,
    opts?: RegisterOptions,
  ): void;
  /** A metric loss (`loss.metric.name`); its schema adds keys to that block. */
  registerMetricLoss(name: string, part: MetricLossFactory | PartSpec<MetricLossFactory>, opts?: RegisterOptions): void;
  /** A system (`system: <name>`); `definition.schema` is its top-level section (`definition.section`, default its name). */
  registerSystem(name: string, definition: SystemDefinition, opts?: RegisterOptions): void;
  readonly tf: typeof tf;
  readonly z: typeof z;
  /** Base class of modules with named, seeded weights (src/model/module.ts). */
  readonly BaseModule: typeof BaseModule;
}

/** A plug-in: registers parts. Built-in parts are plug-ins too (src/parts/builtin.ts). */
export type Plugin = (exp: PartsApi) => void;

/** Where a part came from: 'built-in' or a plug-in file's path. */
export interface PartInfo {
  family: string;
  name: string;
  origin: string;
  /** The config keys of its own section, or null when it has none. */
  section: string | null;
}

type Obj = Record<string, unknown>;
type Family = 'branch' | 'fusion' | 'backbone' | 'head' | 'classificationLoss' | 'metricLoss' | 'system';

/** Base keys of the objects sections sit in: a part's section may not take one of them. */
const TAKEN: Record<PartSection['at'], readonly string[]> = {
  top: ['name', 'seed', 'system', 'data', 'features', 'model', 'loss', 'train', 'eval', 'plugins'],
  features: ['branches', 'logmel', 'fga'],
  model: ['backbone', 'bottlenecks', 'embeddingDim', 'head', 'fusion'],
};

export class Catalog implements Parts {
  readonly branches: Registry<BranchFactory>;
  readonly fusions: Registry<FusionFactory>;
  readonly backbones: Registry<BackboneFactory>;
  readonly heads: Registry<HeadFactory>;
  readonly classificationLosses: Registry<ClassificationLossFactory>;
  readonly metricLosses: Registry<MetricLossFactory>;
  readonly systems: Registry<SystemDefinition>;
  private readonly sections: PartSection[] = [];
  private readonly lossKeys = {
    classificationLoss: new Map<string, z.ZodObject>(),
    metricLoss: new Map<string, z.ZodObject>(),
  };
  private readonly infos: PartInfo[] = [];
  private readonly sectionOwners = new Map<PartSection, string>();
  private schemaCache: z.ZodType<ExperimentConfig, unknown> | null = null;

  constructor(from?: Catalog) {
    this.branches = from?.branches.clone() ?? new Registry('feature branch');
    this.fusions = from?.fusions.clone() ?? new Registry('fusion');
    this.backbones = from?.backbones.clone() ?? new Registry('backbone');
    this.heads = from?.heads.clone() ?? new Registry('head');
    this.classificationLosses = from?.classificationLosses.clone() ?? new Registry('classification loss');
    this.metricLosses = from?.metricLosses.clone() ?? new Registry('metric loss');
    this.systems = from?.systems.clone() ?? new Registry('system');
    if (from) {
      this.sections.push(...from.sections);
      for (const [k, v] of from.sectionOwners) this.sectionOwners.set(k, v);
      for (const [k, v] of from.lossKeys.classificationLoss) this.lossKeys.classificationLoss.set(k, v);
      for (const [k, v] of from.lossKeys.metricLoss) this.lossKeys.metricLoss.set(k, v);
      this.infos.push(...from.infos);
    }
  }

  /** Runs a plug-in against this catalog; `origin` names it in errors and listings. */
  use(plugin: Plugin, origin = 'built-in'): this {
    const result: unknown = plugin(this.api(origin));
    if (result instanceof Promise)
      throw new UserError(`plug-in ${origin}: its function returned a promise; register parts synchronously`);
    return this;
  }

  /** A copy to which more plug-ins can be added without changing this one. */
  clone(): Catalog {
    return new Catalog(this);
  }

  /** Every registered part: families in registration order, names sorted within each. */
  list(): PartInfo[] {
    const families = [...new Set(this.infos.map((i) => i.family))];
    return [...this.infos].sort(
      (a, b) => families.indexOf(a.family) - families.indexOf(b.family) || a.name.localeCompare(b.name),
    );
  }

  extensions(): SchemaExtensions {
    return {
      sections: this.sections,
      classificationLoss: this.lossKeys.classificationLoss,
      metricLoss: this.lossKeys.metricLoss,
    };
  }

  /** The experiment schema: built-in sections plus every registered part's. */
  schema(): z.ZodType<ExperimentConfig, unknown> {
    this.schemaCache ??= composeExperimentSchema(this.extensions());
    return this.schemaCache;
  }

  private api(origin: string): PartsApi {
    const add = <F>(
      family: Family,
      registry: Registry<F>,
      name: string,
      part: F | PartSpec<F>,
      opts: RegisterOptions = {},
      key = name,
    ): void => {
      const where = `${origin === 'built-in' ? 'built-in' : `plug-in ${origin}`}: ${registry.family} ${JSON.stringify(name)}`;
      if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name))
        throw new UserError(`${where}: a name of letters, digits, . _ + - is expected`);
      const spec = (typeof part === 'function' ? { create: part } : part) as PartSpec<F>;
      if (family !== 'system' && typeof spec?.create !== 'function')
        throw new UserError(`${where}: expected a factory function or { create, schema }`);
      const schema = spec.schema === undefined ? undefined : strictSchema(spec.schema, where);
      if (registry.has(name) && !opts.force)
        throw new UserError(
          `${where} is already registered (${this.originOf(registry.family, name)}); pass { force: true } to replace it on purpose`,
        );
      const section = schema ? this.addSection(family, name, schema, key, where) : null;
      registry.register(name, spec.create, { force: true });
      this.schemaCache = null;
      this.infos.splice(
        0,
        this.infos.length,
        ...this.infos.filter((i) => !(i.family === registry.family && i.name === name)),
      );
      this.infos.push({ family: registry.family, name, origin, section });
    };
    return {
      registerBranch: (name, part, opts) => add('branch', this.branches, name, part, opts),
      registerFusion: (name, part, opts) => add('fusion', this.fusions, name, part, opts),
      registerBackbone: (name, part, opts) => add('backbone', this.backbones, name, part, opts),
      registerHead: (name, part, opts) => add('head', this.heads, name, part, opts),
      registerClassificationLoss: (name, part, opts) =>
        add('classificationLoss', this.classificationLosses, name, part, opts),
      registerLoss: (name, part, opts) => add('classificationLoss', this.classificationLosses, name, part, opts),
      registerMetricLoss: (name, part, opts) => add('metricLoss', this.metricLosses, name, part, opts),
      registerSystem: (name, definition, opts) => {
        if (typeof definition?.build !== 'function' || typeof definition.check !== 'function') {
          throw new UserError(
            `plug-in ${origin}: system ${JSON.stringify(name)}: expected a definition with perType, paperRow, check and build`,
          );
        }
        const spec: PartSpec<SystemDefinition> = {
          create: definition,
          ...(definition.schema ? { schema: definition.schema } : {}),
        };
        // A definition is an object, not a factory: wrapped so `add` does not take it for a spec.
        add('system', this.systems, name, spec, opts, definition.section ?? name);
      },
      tf,
      z,
      BaseModule,
    };
  }

  private originOf(family: string, name: string): string {
    const o = this.infos.find((i) => i.family === family && i.name === name)?.origin ?? 'built-in';
    return o === 'built-in' ? 'built in' : `by plug-in ${o}`;
  }

  /** Records a part's section; returns its dotted key. A loss's keys go into its own block. */
  private addSection(family: Family, name: string, schema: z.ZodObject, key: string, where: string): string {
    if (family === 'classificationLoss' || family === 'metricLoss') {
      this.lossKeys[family].set(name, schema);
      return `loss.${family === 'classificationLoss' ? 'classification' : 'metric'}`;
    }
    const spec = sectionSpec(family, name);
    const owner = `${family}:${name}`;
    const dotted = spec.at === 'top' ? key : `${spec.at}.${key}`;
    const other = this.sections.find((s) => s.at === spec.at && s.key === key);
    if (TAKEN[spec.at].includes(key) || (other && this.sectionOwners.get(other) !== owner)) {
      throw new UserError(
        `${where}: its config section ${dotted} is taken; give the part (or its section) another name`,
      );
    }
    if (other) this.sections.splice(this.sections.indexOf(other), 1);
    const section: PartSection = { at: spec.at, key, schema, chosen: spec.chosen, unused: spec.unused };
    this.sections.push(section);
    this.sectionOwners.set(section, owner);
    return dotted;
  }
}

/** Where a family's sections sit, when their part counts as chosen, and what to say when it does not. */
function sectionSpec(family: Family, name: string): Pick<PartSection, 'at' | 'chosen' | 'unused'> {
  switch (family) {
    case 'branch':
      return {
        at: 'features',
        chosen: (f: Obj) => Array.isArray(f['branches']) && (f['branches'] as unknown[]).includes(name),
        unused: (f: Obj) =>
          `only read by feature branch ${name} (features.branches is ${JSON.stringify(f['branches'])})`,
      };
    case 'fusion':
    case 'backbone':
    case 'head':
      return {
        at: 'model',
        chosen: (m: Obj) => m[family] === name,
        unused: (m: Obj) => `only read by ${family} ${name} (model.${family} is ${JSON.stringify(m[family])})`,
      };
    default:
      return {
        at: 'top',
        chosen: (c: Obj) => c['system'] === name,
        unused: (c: Obj) =>
          `only read by system ${name} (this config's system is ${typeof c['system'] === 'string' ? c['system'] : 'classifier'})`,
      };
  }
}

/** A part's schema as a strict object of our zod (a plain z.object would drop unknown keys silently). */
function strictSchema(schema: unknown, where: string): z.ZodObject {
  if (!(schema instanceof z.ZodObject)) {
    throw new UserError(`${where}: schema must be a zod object made with the API's zod (exp.z.strictObject({...}))`);
  }
  return z.strictObject(schema.shape);
}
