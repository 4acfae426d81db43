/** What `exp sweep --executor` takes; its own module so that the flag is declared without the sweep schema (zod). */
export const EXECUTORS = ['local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];
