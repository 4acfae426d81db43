import { readExperiment, validateExperiment } from '../../parts/experiment.js';
import { loadPluginFiles } from '../../parts/files.js';
import { applyGpuAdapterFlag, parseBackendName, describeBackend } from '../../backend/select.js';
import { runBench } from '../../backend/bench.js';

/** `exp bench`'s flags as commander gives them; bench.ts declares them and imports this module when the command runs. */
export interface BenchFlags {
  backend: string;
  batch: number;
  steps: number;
  warmup: number;
  threads?: number;
  gpuAdapter?: string;
  json?: boolean;
  plugin: string[];
}

/** Times `path`'s model (null: the built-in defaults, with the plug-ins' parts). */
export async function runBenchCommand(path: string | null, flags: BenchFlags): Promise<void> {
  const backend = parseBackendName(flags.backend);
  applyGpuAdapterFlag(flags.gpuAdapter);
  const { config, catalog } = path
    ? await readExperiment(path, { plugins: flags.plugin })
    : await loadPluginFiles(flags.plugin).then(({ catalog }) => ({
        config: validateExperiment({}, 'the built-in defaults', catalog),
        catalog,
      }));
  const progress = flags.json
    ? undefined
    : (phase: string, i: number) => process.stderr.write(`\r${phase} step ${i + 1}   `);
  const r = await runBench(config, {
    parts: catalog,
    backend,
    batch: flags.batch,
    steps: flags.steps,
    warmup: Number.isInteger(flags.warmup) && flags.warmup >= 0 ? flags.warmup : 1,
    ...(flags.threads ? { threads: flags.threads } : {}),
    ...(progress ? { onStep: progress } : {}),
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stderr.write('\r                    \r');
    const lines = [
      `${describeBackend({ ...r, native: r.backend === 'tensorflow' })}; ${r.experiment} (${(r.params / 1e6).toFixed(2)} M parameters), batch ${r.batch}`,
      `train  ${r.train.clipsPerSec.toFixed(2)} clips/s  (${r.train.msPerStep.toFixed(0)} ms per step, micro-batches of ${r.microBatch}: exp run's training step)`,
      `infer  ${r.infer.clipsPerSec.toFixed(2)} clips/s  (${r.infer.msPerBatch.toFixed(0)} ms per batch)`,
      `load average ${r.loadAverage.toFixed(2)} on ${r.cpus} cpus before the benchmark${r.loadAverage > r.cpus * 0.5 ? ' (other work was running: numbers are pessimistic)' : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  // The wasm worker threads are unref'd; exit explicitly anyway so timers cannot hold the process.
  process.exitCode = 0;
}
