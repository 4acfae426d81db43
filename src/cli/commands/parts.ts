import type { Command } from 'commander';
import { action } from '../action.js';
import { loadTfjs } from '../lazy.js';
import { pluginOption } from '../plugin-option.js';

/**
 * `exp parts`: what the YAML can name, family by family, with where each part comes from and
 * the config keys of its own section. With --plugin, the plug-ins' parts are listed too.
 */
export function register(program: Command): void {
  const cmd = program
    .command('parts')
    .description(
      'the registered parts (branches, fusions, backbones, heads, losses, systems) by family, plug-ins included',
    )
    .option('--json', 'print [{"family":..,"name":..,"origin":"built-in" | path,"section":key | null}]');
  cmd.addOption(pluginOption()).action(
    action(async (opts: { json?: boolean; plugin: string[] }) => {
      // The built-in parts import tfjs: loaded when the parts are listed, not when exp starts.
      await loadTfjs();
      const { loadPluginFiles } = await import('../../parts/files.js');
      const { catalog } = await loadPluginFiles(opts.plugin);
      const parts = catalog.list();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(parts)}\n`);
        return;
      }
      const families = [...new Set(parts.map((p) => p.family))];
      const width = Math.max(...families.map((f) => f.length));
      const lines = families.map((family) => {
        const names = parts
          .filter((p) => p.family === family)
          .map((p) => {
            const notes = [p.origin === 'built-in' ? null : p.origin, p.section ? `section ${p.section}` : null].filter(
              (n) => n !== null,
            );
            return notes.length > 0 ? `${p.name} (${notes.join('; ')})` : p.name;
          });
        return `${family.padEnd(width)}  ${names.join(', ')}`;
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
}
