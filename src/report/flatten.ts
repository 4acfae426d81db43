/** Flattens nested config objects to dotted keys (`loss.metric.gamma`); arrays stay whole values. */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The value at a dotted key, whole sections included (null when absent). */
export function valueAt(config: unknown, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
    node = (node as Record<string, unknown>)[part];
  }
  return node ?? null;
}

/**
 * The dotted keys whose values differ between configs. A section that is null on one side (e.g.
 * `loss.metric: null`, SoftTriple off) is reported as that one key, not as each of its leaves.
 */
export function diffKeys(configs: unknown[]): string[] {
  const flat = configs.map((c) => flatten(c));
  const keys = new Set(flat.flatMap((f) => Object.keys(f)));
  const out = new Set<string>();
  for (const k of keys) {
    if (!flat.some((f) => !same(f[k] ?? null, flat[0]![k] ?? null))) continue;
    const parts = k.split('.');
    let key = k;
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (flat.some((f) => prefix in f && f[prefix] === null)) {
        key = prefix;
        break;
      }
    }
    out.add(key);
  }
  return [...out].sort();
}
