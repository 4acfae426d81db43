import { NATIVE_LABEL } from '../backend/kernels/native.js';
import { describeAdapterLine } from '../backend/webgpu.js';
import type { TrainEvent } from '../events/index.js';
import { formatDuration } from '../util/format.js';

/**
 * Terminal progress of one run: on a TTY the current step line is rewritten in place, and each
 * finished epoch is printed as a line of its own; off a TTY only whole lines are printed.
 */
export class ProgressPrinter {
  private stepsPerEpoch = 1;
  private epochs = 1;
  private startEpoch = 1;
  private readonly t0 = performance.now();
  private epochSeconds: number[] = [];
  private live = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  private clearLive(): void {
    if (this.live) this.out.write('\r\x1b[2K');
    this.live = false;
  }

  handle(e: TrainEvent): void {
    const tty = this.out.isTTY === true;
    switch (e.kind) {
      case 'start':
        this.stepsPerEpoch = e.stepsPerEpoch;
        this.epochs = e.epochs;
        this.startEpoch = e.startEpoch;
        this.out.write(
          `backend ${e.backend} (${e.threads} thread${e.threads === 1 ? '' : 's'}${e.simdKernels ? `, ${e.simdKernels} SIMD kernels` : ''}${e.nativeKernels ? `, ${NATIVE_LABEL[e.nativeKernels]}` : ''}), ${(e.params.total / 1e6).toFixed(2)} M parameters, ` +
            `${e.numClasses} machine IDs, ${e.trainClips} train / ${e.valClips} val / ${e.testClips} test clips, ` +
            `${e.stepsPerEpoch} steps per epoch\n`,
        );
        if (e.gpu) this.out.write(`${describeAdapterLine(e.gpu)}\n`);
        if (e.deviceFit?.note) this.out.write(`${e.deviceFit.note}\n`);
        break;
      case 'step': {
        if (!tty) return;
        const done = (e.epoch - this.startEpoch) * this.stepsPerEpoch + e.step;
        const total = (this.epochs - this.startEpoch + 1) * this.stepsPerEpoch;
        const elapsed = (performance.now() - this.t0) / 1000;
        const eta = (elapsed / done) * (total - done);
        this.clearLive();
        this.out.write(
          `epoch ${e.epoch}/${this.epochs}  step ${e.step}/${e.stepsPerEpoch}  loss ${e.loss.toFixed(4)}  ` +
            `${e.clipsPerSec.toFixed(1)} clips/s  ETA ${formatDuration(eta)}`,
        );
        this.live = true;
        break;
      }
      case 'epoch': {
        this.clearLive();
        this.epochSeconds.push(e.seconds);
        const mean = this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length;
        const terms = Object.entries(e.terms)
          .filter(([, v]) => v !== 0)
          .map(([k, v]) => `${k} ${v.toFixed(4)}`)
          .join(', ');
        const acc = e.valAcc === null || e.valAcc === undefined ? '' : ` acc ${(100 * e.valAcc).toFixed(1)} %`;
        const val = e.valLoss === null ? '' : `  val ${e.valLoss.toFixed(4)}${acc}`;
        this.out.write(
          `epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)} (${terms})${val}  lr ${e.lr.toExponential(2)}  ` +
            `${e.clipsPerSec.toFixed(1)} clips/s  ${formatDuration(e.seconds)}  ETA ${formatDuration(mean * (e.epochs - e.epoch))}\n`,
        );
        break;
      }
      case 'eval':
        this.clearLive();
        if (!e.final) {
          this.out.write(
            `eval after epoch ${e.epoch}: AUC ${(100 * e.average.auc).toFixed(2)}  pAUC ${(100 * e.average.pauc).toFixed(2)}  ` +
              `pAUC(McClish) ${(100 * e.average.paucMcclish).toFixed(2)}\n`,
          );
        }
        break;
      case 'checkpoint':
      case 'done':
        this.clearLive();
        break;
    }
  }
}
