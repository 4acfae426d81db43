import { UserError } from '../util/errors.js';

/**
 * A named registry for one family of parts (mmengine style): a duplicate name is an error unless
 * forced, and an unknown name is a user error that names the family and lists what exists.
 * Families are filled by explicit module lists (see ./container.ts), never by import side effects.
 */
export class Registry<F> {
  private readonly entries = new Map<string, F>();

  constructor(readonly family: string) {}

  register(name: string, factory: F, opts: { force?: boolean } = {}): this {
    if (this.entries.has(name) && !opts.force) {
      throw new Error(`${this.family} registry: "${name}" is already registered (pass force to replace it on purpose)`);
    }
    this.entries.set(name, factory);
    return this;
  }

  /** A copy with the same entries, to which a run may add its own without touching this one. */
  clone(): Registry<F> {
    const copy = new Registry<F>(this.family);
    for (const [name, factory] of this.entries) copy.entries.set(name, factory);
    return copy;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** @param where the config key that named it, e.g. "features.branches[2]" */
  get(name: string, where?: string): F {
    const f = this.entries.get(name);
    if (f === undefined) {
      const at = where ? `${where}: ` : '';
      throw new UserError(
        `${at}unknown ${this.family} "${name}"; registered names: ${this.names().join(', ') || '(none)'}`,
      );
    }
    return f;
  }
}
