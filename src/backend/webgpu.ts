import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { messageOf } from '../util/errors.js';
import type { GpuAdapterInfo } from '../events/index.js';

/**
 * The WebGPU backend in Node: tfjs-backend-webgpu on Dawn (the npm package `webgpu`, which ships
 * a prebuilt dawn.node). Dawn reaches a GPU through its Vulkan driver on Linux (no CUDA), Metal
 * on macOS, D3D12 on Windows. Both packages are imported only when WebGPU is asked for, so a
 * wasm run never loads them (and `webgpu` is an optional dependency).
 */

/** The adapter a run used, printed at its start and stored with it (provenance). */
export type GpuAdapter = GpuAdapterInfo;

export interface WebGpuOptions {
  /** Part of an adapter's name (Dawn's `adapter=` option); default EXP_WEBGPU_ADAPTER. */
  adapter?: string;
  /** Refuse software and fallback adapters (what `--backend auto` wants). */
  requireHardware: boolean;
  /** Shader cache directory for the GPU driver (Mesa, NVIDIA), created if missing. */
  shaderCache?: string;
}

/** The device calls the guards use, typed here so nothing depends on @webgpu/types. */
export interface GpuDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  readonly lost: Promise<{ reason: string; message: string }>;
  readonly limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

interface AdapterLike {
  readonly info: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter?: boolean;
  };
  readonly isFallbackAdapter?: boolean;
  readonly limits: Record<string, number>;
  readonly features: ReadonlySet<string>;
  requestDevice(desc: { requiredLimits: Record<string, number>; requiredFeatures: string[] }): Promise<GpuDeviceLike>;
}

interface GpuLike {
  requestAdapter(opts: { powerPreference: 'high-performance' }): Promise<AdapterLike | null>;
}

/** Why WebGPU is not available, or the adapter in use. */
export type WebGpuOutcome = { ok: true; adapter: GpuAdapter } | { ok: false; reason: string };

let state: { adapter: GpuAdapter; device: GpuDeviceLike; lost: string | null } | null = null;

/** The device of the initialised WebGPU backend (the guards' error scopes), or null. */
export function webgpuDevice(): { device: GpuDeviceLike; adapter: GpuAdapter; lost: () => string | null } | null {
  const s = state;
  return s ? { device: s.device, adapter: s.adapter, lost: () => s.lost } : null;
}

/** EXP_WEBGPU_MAX_BINDING_BYTES: a smaller storage binding limit than the device offers (tests, safety margins). */
export function requestedBindingLimit(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env['EXP_WEBGPU_MAX_BINDING_BYTES'];
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024)
    throw new WebGpuSetupError(
      `EXP_WEBGPU_MAX_BINDING_BYTES expects a whole number of bytes >= 1024, got ${JSON.stringify(raw)}`,
    );
  return n;
}

/** A user-side WebGPU problem (bad adapter name, bad limit): the caller turns it into a UserError. */
export class WebGpuSetupError extends Error {
  override readonly name = 'WebGpuSetupError';
}

/**
 * Linux without a GPU device node has no hardware adapter to find: `auto` then skips loading
 * Dawn (which costs ~0.5 s and prints driver warnings on stderr). NVIDIA's driver exposes
 * /dev/nvidia0.., AMD and Intel /dev/dri/renderD128..; other systems are always probed.
 */
export function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  const nodes = (dir: string, prefix: string) => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(prefix));
  return nodes('/dev', 'nvidia') || nodes('/dev/dri', 'renderD');
}

/**
 * Points the GPU drivers' own shader caches at `dir` unless the user set them: Mesa (lavapipe,
 * RADV, ANV) and NVIDIA read these variables when the driver loads, so a sweep's trial processes
 * share compiled shaders (on lavapipe the first FGASpecNet step drops from ~137 s to ~19 s).
 */
function useShaderCache(dir: string): void {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  defaultEnv('MESA_SHADER_CACHE_DIR', abs);
  defaultEnv('__GL_SHADER_DISK_CACHE_PATH', abs);
  defaultEnv('__GL_SHADER_DISK_CACHE', '1');
}

/** Sets an environment variable the user left unset or empty (`VAR= cmd` in a shell means "not chosen"). */
function defaultEnv(name: string, value: string): void {
  if (!process.env[name]) process.env[name] = value;
}

function describeAdapter(a: AdapterLike, bindingLimit: number): GpuAdapter {
  const { vendor, architecture, device, description } = a.info;
  const fallback = a.info.isFallbackAdapter === true || a.isFallbackAdapter === true;
  const soft = /llvmpipe|lavapipe|swiftshader|software/i;
  return {
    vendor,
    architecture,
    device,
    description,
    software: fallback || architecture === 'software' || soft.test(description) || soft.test(device),
    limits: {
      maxStorageBufferBindingSize: a.limits['maxStorageBufferBindingSize']!,
      maxBufferSize: a.limits['maxBufferSize']!,
    },
    bindingLimit,
  };
}

/** Imports a module by a variable name, so the optional package is never resolved unless asked for. */
async function optionalImport(name: string): Promise<Record<string, unknown>> {
  return (await import(name)) as Record<string, unknown>;
}

/**
 * Loads Dawn, picks an adapter and registers tfjs's `webgpu` backend on it (not yet selected).
 * The WebGPU globals must exist before tfjs-backend-webgpu is imported. Requests the adapter's
 * limits, except a smaller storage binding limit when EXP_WEBGPU_MAX_BINDING_BYTES asks for one,
 * so Dawn itself validates against the smaller number.
 */
export async function initWebGpu(opts: WebGpuOptions): Promise<WebGpuOutcome> {
  if (state) return { ok: true, adapter: state.adapter };
  const bindingRequest = requestedBindingLimit();
  const adapterName = opts.adapter ?? process.env['EXP_WEBGPU_ADAPTER'] ?? '';
  if (opts.shaderCache) useShaderCache(opts.shaderCache);
  let dawn: Record<string, unknown>;
  try {
    dawn = await optionalImport('webgpu');
  } catch (e) {
    return {
      ok: false,
      reason: `the npm package 'webgpu' (Dawn) is not installed or does not load here (${messageOf(e).split('\n')[0]})`,
    };
  }
  const create = dawn['create'] as (options: string[]) => GpuLike;
  Object.assign(globalThis, dawn['globals'] as object);
  let gpu: GpuLike;
  let adapter: AdapterLike | null;
  try {
    gpu = create(adapterName ? [`adapter=${adapterName}`] : []);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    // Dawn lists the adapters it found when the name matches none.
    if (adapterName)
      throw new WebGpuSetupError(
        `EXP_WEBGPU_ADAPTER / --gpu-adapter ${JSON.stringify(adapterName)} matches no adapter: ${messageOf(e).replace(/\s*\n\s*/g, ' ')}`,
      );
    return { ok: false, reason: `Dawn found no adapter (${messageOf(e).split('\n')[0]})` };
  }
  if (!adapter)
    return {
      ok: false,
      reason:
        'Dawn found no WebGPU adapter (no Vulkan driver for a GPU; on Linux without a GPU, lavapipe needs Mesa >= 25)',
    };
  const offered = adapter.limits['maxStorageBufferBindingSize']!;
  const bindingLimit = bindingRequest === null ? offered : Math.min(offered, bindingRequest);
  const info = describeAdapter(adapter, bindingLimit);
  if (opts.requireHardware && info.software)
    return { ok: false, reason: `the only adapter is a software one (${info.description})` };

  const nav = (globalThis as { navigator?: Record<string, unknown> }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const webgpuModule = await optionalImport('@tensorflow/tfjs-backend-webgpu');
  const WebGPUBackend = webgpuModule['WebGPUBackend'] as new (
    device: GpuDeviceLike,
    info: AdapterLike['info'],
  ) => tf.KernelBackend;
  const lim = adapter.limits;
  const device = await adapter.requestDevice({
    // The limits tfjs-backend-webgpu itself requests, with our binding limit.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: lim['maxComputeWorkgroupStorageSize']!,
      maxComputeWorkgroupsPerDimension: lim['maxComputeWorkgroupsPerDimension']!,
      maxStorageBufferBindingSize: bindingLimit,
      maxBufferSize: lim['maxBufferSize']!,
      maxComputeWorkgroupSizeX: lim['maxComputeWorkgroupSizeX']!,
      maxComputeInvocationsPerWorkgroup: lim['maxComputeInvocationsPerWorkgroup']!,
    },
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
  });
  const s = { adapter: info, device, lost: null as string | null };
  void device.lost.then((l) => {
    s.lost = `${l.reason}: ${l.message}`;
  });
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  state = s;
  return { ok: true, adapter: info };
}

/** One line for the CLI: "adapter nvidia ampere (NVIDIA GeForce RTX 3090), binding limit 2048 MiB". */
export function describeAdapterLine(a: GpuAdapter): string {
  const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
  const lowered =
    a.bindingLimit < a.limits.maxStorageBufferBindingSize
      ? ` (lowered from ${mib(a.limits.maxStorageBufferBindingSize)} by EXP_WEBGPU_MAX_BINDING_BYTES)`
      : '';
  const soft = a.software ? '; a software adapter: for tests only, ~15x slower than wasm' : '';
  return `adapter ${a.vendor || '?'} ${a.architecture || '?'} (${a.description || a.device}), storage binding limit ${mib(a.bindingLimit)}${lowered}${soft}`;
}
