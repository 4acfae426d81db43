import { z } from 'zod';

/**
 * Batch job options of a sweep (`executor: {slurm: {...}}` in the sweep YAML; flags of the same
 * names override them): part of the sweep's schema, read by the Slurm executor. Values are
 * passed to sbatch as they are; the checks here only catch what sbatch would reject after the
 * sweep was already validated and preflighted.
 */
export const SlurmJobOptions = z.strictObject({
  partition: z
    .string()
    .regex(/^[A-Za-z0-9_.,-]+$/, 'a partition name (letters, digits, _ . , -)')
    .optional(),
  /** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
  time: z
    .string()
    .regex(/^(\d+-)?\d+(:\d+){0,2}$/, 'a Slurm time limit such as 90, 4:00:00 or 2-00:00:00')
    .optional(),
  gres: z
    .string()
    .regex(/^[A-Za-z0-9_:,.-]+$/, 'a generic resource such as gpu:1')
    .optional(),
  cpusPerTask: z.number().int().positive().optional(),
  mem: z
    .string()
    .regex(/^\d+[KMGT]?$/, 'memory such as 16G or 4000M')
    .optional(),
  /** More sbatch arguments, each one word (e.g. --account=lab, --qos=long). */
  extra: z.array(z.string().regex(/^--?[A-Za-z]/, 'an sbatch option starting with - or --')).default([]),
});
export type SlurmJobOptions = z.infer<typeof SlurmJobOptions>;

export const ExecutorSpec = z.strictObject({ slurm: SlurmJobOptions.optional() });
