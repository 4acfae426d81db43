import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Catalog, PartInfo } from '../registry/catalog.js';
import { loadTfjs } from './lazy.js';

/**
 * The names the experiment YAML can use, per family, at the end of `--help` of every command that
 * builds a model or a loss. They come from the catalog, so a new built-in part or a plug-in shows
 * up without an edit here. Commander prints help synchronously, while the catalog (its parts
 * import tfjs) and any plug-in load with an asynchronous import(): when the command line asks for
 * the help of such a command, main loads them first (preloadHelpPlugins), and only then, so
 * `exp --help` or `exp runs --help` start without tfjs.
 */

let helpCatalog: Catalog | undefined;

/** The commands whose help ends with the parts listing (withPartsHelp). */
const listing = new WeakSet<Command>();

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

/**
 * Whether help may be printed for a command with the parts listing: the command line asks for
 * help (--help, -h or `help`) and names such a command (`exp run --help`, `exp help run`). It
 * says yes for the help of that command's subcommands too (`exp sweep status --help`), and where
 * an argument spells a command's name: that costs the catalog's load, never a listing left out.
 */
function wantsPartsHelp(program: Command, tokens: readonly string[]): boolean {
  if (!tokens.some((t) => t === '--help' || t === '-h' || t === 'help')) return false;
  let current = program;
  for (const t of tokens) {
    const sub = current.commands.find((c) => c.name() === t || c.aliases().includes(t));
    if (!sub) continue;
    if (listing.has(sub)) return true;
    current = sub;
  }
  return false;
}

/**
 * When the command line asks for the help of a command that lists the parts, loads the catalog,
 * with the plug-ins it names, so the help lists their parts too.
 */
export async function preloadHelpPlugins(program: Command, args: readonly string[]): Promise<void> {
  const end = args.indexOf('--');
  const tokens = end < 0 ? args : args.slice(0, end);
  if (!wantsPartsHelp(program, tokens)) return;
  await loadTfjs();
  const paths = pluginArgs(tokens);
  if (paths.length > 0) helpCatalog = (await (await import('../parts/files.js')).loadPluginFiles(paths)).catalog;
  else helpCatalog = (await import('../parts/builtin.js')).defaultCatalog();
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

/** The listing of the built-in parts and any plug-ins, preloaded by preloadHelpPlugins. */
function partsHelp(): string {
  if (!helpCatalog) throw new Error('the parts listing was asked for before preloadHelpPlugins loaded the catalog');
  return partsHelpText(helpCatalog);
}

/** Ends `cmd`'s help with the parts listing (built-ins and the plug-ins of its --plugin flags). */
export function withPartsHelp(cmd: Command): Command {
  listing.add(cmd);
  return cmd.addHelpText('after', partsHelp);
}
