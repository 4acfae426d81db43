import { basename } from 'node:path';
import { defaultCatalog } from '../parts/builtin.js';
import { loadPluginFiles } from '../parts/files.js';
import type { Catalog, PartInfo } from '../registry/catalog.js';

/**
 * The names the experiment YAML can use, per family, at the end of `--help` of every command that
 * builds a model or a loss. They come from the catalog, so a new built-in part or a plug-in shows
 * up without an edit here. Commander prints help synchronously while a plug-in loads with an
 * asynchronous import(), so `exp <command> --help --plugin FILE` loads the plug-ins first
 * (preloadHelpPlugins, called by main before parsing).
 */

let helpCatalog: Catalog | undefined;

/** The `--plugin` values of a command line (`--plugin X` and `--plugin=X`), up to a `--`. */
export function pluginArgs(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  const tokens = end < 0 ? args : args.slice(0, end);
  const paths: string[] = [];
  tokens.forEach((t, i) => {
    if (t === '--plugin' && i + 1 < tokens.length) paths.push(tokens[i + 1]!);
    else if (t.startsWith('--plugin=')) paths.push(t.slice('--plugin='.length));
  });
  return paths;
}

/** When the command line asks for help and names plug-ins, loads them so the help lists their parts. */
export async function preloadHelpPlugins(args: readonly string[]): Promise<void> {
  const end = args.indexOf('--');
  const tokens = end < 0 ? args : args.slice(0, end);
  if (!tokens.some((t) => t === '--help' || t === '-h')) return;
  const paths = pluginArgs(tokens);
  if (paths.length > 0) helpCatalog = (await loadPluginFiles(paths)).catalog;
}

/** One name as listed: a plug-in's part carries its file's name. */
function label(part: PartInfo): string {
  return part.origin === 'built-in' ? part.name : `${part.name} (${basename(part.origin)})`;
}

/** Joins `items` with ", " into lines of at most `width` characters, the first after `lead`. */
function wrap(lead: string, items: string[], width: number): string[] {
  const lines: string[] = [];
  let line = lead;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (i > 0 && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = ' '.repeat(lead.length) + piece;
    } else line = i > 0 ? `${line} ${piece}` : `${line}${piece}`;
  });
  lines.push(line);
  return lines;
}

/** The help section: every family with its names, plug-ins included. */
export function partsHelpText(catalog: Catalog, width = 100): string {
  const parts = catalog.list();
  const families = [...new Set(parts.map((p) => p.family))];
  const pad = Math.max(...families.map((f) => f.length)) + 2;
  const lines = families.flatMap((family) =>
    wrap(`  ${family.padEnd(pad)}`, parts.filter((p) => p.family === family).map(label), width),
  );
  return [
    '',
    'Parts the experiment YAML can name (exp parts lists them with their config sections;',
    "--plugin FILE adds a plug-in file's parts, here too):",
    ...lines,
  ].join('\n');
}

/** For `cmd.addHelpText('after', partsHelp)`: the listing of the built-in parts and any preloaded plug-ins. */
export const partsHelp = (): string => partsHelpText(helpCatalog ?? defaultCatalog());
