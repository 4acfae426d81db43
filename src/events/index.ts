/**
 * What a training run reports, in order. The trainer only emits these; whoever runs it decides
 * where they go (the run store, the terminal, the sweep orchestrator over IPC). Every event
 * is plain JSON so it can cross a process boundary unchanged.
 */
export type TrainEvent = StartEvent | StepEvent | EpochEvent | CheckpointEvent | EvalEvent | DoneEvent;

/** The WebGPU adapter a run used (plain JSON, stored with the run). */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (Mesa's lavapipe, SwiftShader) or Dawn's fallback adapter: for tests only. */
  software: boolean;
  /** The device limits that decide what fits, in bytes. */
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  /** The largest storage binding the guards allow (EXP_WEBGPU_MAX_BINDING_BYTES may lower it). */
  bindingLimit: number;
}

export interface StartEvent {
  kind: 'start';
  backend: string;
  threads: number;
  /** wasm: which build of our SIMD kernels ran (stored with the run: it changes float rounding). */
  simdKernels?: 'relaxed' | 'baseline';
  /** wasm: 'avx2' or 'avx512' when the products ran in that native x86-64 build (the same bits, faster). */
  nativeKernels?: 'avx2' | 'avx512';
  /** webgpu: the adapter (vendor, architecture, device, driver, limits), the run's provenance. */
  gpu?: GpuAdapterInfo;
  /**
   * webgpu: what the pre-training check measured and chose (largest storage buffer of a 2-clip
   * step, the binding limit, the micro-batch and evaluation batch), and what it said.
   */
  deviceFit?: { probeBytes: number; limit: number; microBatch: number; evalBatch: number; note: string | null };
  /** Clips per training micro-batch. */
  microBatch?: number;
  /** Trainable parameters per module and total. */
  params: { total: number; modules: Record<string, number> };
  numClasses: number;
  trainClips: number;
  valClips: number;
  testClips: number;
  stepsPerEpoch: number;
  epochs: number;
  /** First epoch this process runs (1-based; > 1 after a resume). */
  startEpoch: number;
}

export interface StepEvent {
  kind: 'step';
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  clipsPerSec: number;
}

/** One finished epoch. `terms` holds each loss term (e.g. cls, metric) as a batch-weighted mean. */
export interface EpochEvent {
  kind: 'epoch';
  epoch: number;
  epochs: number;
  loss: number;
  terms: Record<string, number>;
  lr: number;
  clipsPerSec: number;
  seconds: number;
  /** Validation cross-entropy when train.valSplit is set. */
  valLoss: number | null;
  /**
   * Machine-ID classification accuracy on the train.valSplit clips (argmax of the cosine logits
   * against the clip's ID), for systems that classify IDs; absent or null otherwise.
   */
  valAcc?: number | null;
}

export interface CheckpointEvent {
  kind: 'checkpoint';
  epoch: number;
  path: string;
  /** True when this checkpoint is the one selected by validation loss (or the last one without it). */
  best: boolean;
}

/** One anomaly score per test clip: A(x) = -log softmax(z(x))[machine ID] (§3.1). */
export interface ScoreRow {
  path: string;
  type: string;
  id: string;
  label: 0 | 1;
  score: number;
}

export interface MetricTriple {
  auc: number;
  pauc: number;
  paucMcclish: number;
}

export interface EvalEvent {
  kind: 'eval';
  epoch: number;
  /** True for the final evaluation (of the selected checkpoint), false for train.evalEvery ones. */
  final: boolean;
  ids: Record<string, MetricTriple & { type: string; id: string }>;
  types: Record<string, MetricTriple>;
  average: MetricTriple;
  scores: ScoreRow[];
}

export interface DoneEvent {
  kind: 'done';
  seconds: number;
}
