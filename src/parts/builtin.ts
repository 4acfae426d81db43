import { Catalog, type Plugin } from '../registry/catalog.js';
import { modelParts } from '../model/parts.js';
import { lossParts } from '../losses/parts.js';
import { systemParts } from '../systems/parts.js';

/**
 * The built-in parts, one module per feature folder, in load order. They register through the
 * same API as a user's plug-in; this list is the only place that names them all.
 */
export const builtinPlugins: readonly Plugin[] = [modelParts, lossParts, systemParts];

/** A fresh catalog of the built-in parts (add plug-ins with `.use(plugin, origin)`). */
export function createCatalog(plugins: readonly Plugin[] = []): Catalog {
  const catalog = new Catalog();
  for (const p of builtinPlugins) catalog.use(p);
  for (const p of plugins) catalog.use(p, p.name || 'plug-in');
  return catalog;
}

let shared: Catalog | null = null;

/** The built-in catalog, built once per process. Treat it as read-only: clone() to add parts. */
export function defaultCatalog(): Catalog {
  shared ??= createCatalog();
  return shared;
}
