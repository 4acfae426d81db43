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

/** The keys whose values differ between configs (a key missing on one side counts as undefined -> null). */
export function diffKeys(configs: unknown[]): string[] {
  const flat = configs.map((c) => flatten(c));
  const keys = new Set(flat.flatMap((f) => Object.keys(f)));
  return [...keys].filter((k) => flat.some((f) => !same(f[k] ?? null, flat[0]![k] ?? null))).sort();
}

export function valueAt(config: unknown, key: string): unknown {
  return flatten(config)[key] ?? null;
}
