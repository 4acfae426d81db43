import { checkOutputFile, writeOutputFile } from '../../util/outputs.js';
import { applyOverride, parseOverride, type ExperimentConfig } from '../../config/index.js';
import { readExperiment, validateExperiment } from '../../parts/experiment.js';
import { readWav } from '../../audio/wav.js';
import { logMel, resolveLogMelOptions, type LogMelOptions } from '../../features/logmel.js';
import { renderFeaturesPng, type FeatureChannel } from '../../features/png.js';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/select.js';
import { temporalAttention } from '../../model/branches/tagram.js';
import { UserError } from '../../util/errors.js';

/** `exp features`'s flags as commander gives them; features.ts declares them and imports this module when the command runs. */
export interface FeaturesFlags {
  json?: boolean;
  png?: string;
  config?: string;
  set?: string[];
}

/** The experiment whose front end is shown (its plug-ins loaded, so their sections validate). */
async function experimentFor(flags: FeaturesFlags): Promise<{ exp: ExperimentConfig; source: string }> {
  const overrides = (flags.set ?? []).map((s) => parseOverride(s));
  if (flags.config) return { exp: (await readExperiment(flags.config, { overrides })).config, source: flags.config };
  const raw: Record<string, unknown> = {};
  for (const o of overrides) applyOverride(raw, o);
  return { exp: validateExperiment(raw, '--set'), source: '--set' };
}

export async function runFeatures(file: string, flags: FeaturesFlags): Promise<void> {
  const { exp, source } = await experimentFor(flags);
  const opts: LogMelOptions = resolveLogMelOptions({ ...exp.features.logmel, sampleRate: exp.data.sampleRate }, source);
  if (flags.png) checkOutputFile(flags.png, '--png');
  const wave = readWav(file, opts.sampleRate);
  if (wave.length === 0) throw new UserError(`${file} holds no samples`);
  const lm = logMel(wave, opts);
  const [mels, frames] = lm.shape;

  if (flags.png) {
    // F_TA (§2.1.3) has no weights, so it can be drawn for any clip; Tgram and SpecNet are learned
    // and would only show random initial weights here.
    await initBackend('cpu');
    const taTensor = tf.tidy(() => temporalAttention(tf.tensor3d(lm.data, [1, mels, frames])));
    const ta = Float32Array.from(await taTensor.data());
    taTensor.dispose();
    const channels: FeatureChannel[] = [
      { name: 'logmel', shape: lm.shape, data: lm.data, unit: 'dB' },
      { name: 'tagram', shape: lm.shape, data: ta },
    ];
    const png = renderFeaturesPng(channels, { framesPerSecond: opts.sampleRate / opts.hop });
    writeOutputFile(flags.png, png, '--png');
  }

  if (flags.json) {
    const data: number[][] = [];
    for (let m = 0; m < mels; m++) data.push(Array.from(lm.data.subarray(m * frames, (m + 1) * frames)));
    process.stdout.write(`${JSON.stringify({ sampleRate: opts.sampleRate, logmel: { shape: lm.shape, data } })}\n`);
    return;
  }

  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (const v of lm.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const seconds = wave.length / opts.sampleRate;
  const fMax = opts.fMax ?? opts.sampleRate / 2;
  const lines = [
    `${file}: ${seconds.toFixed(2)} s at ${opts.sampleRate} Hz (${wave.length} samples)`,
    `log-Mel: ${mels} mel bins x ${frames} frames (n_fft ${opts.nFft}, hop ${opts.hop}, ${opts.scale} scale, norm ${opts.norm}, ${opts.pad} padding, ${opts.fMin}-${fMax} Hz)`,
    `values: ${min.toFixed(1)} to ${max.toFixed(1)} dB, mean ${(sum / lm.data.length).toFixed(1)} dB (10*log10 of mel power, floor -100 dB)`,
  ];
  if (flags.png) lines.push(`image: ${flags.png}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
