import type { Migration } from '../migrate.js';
import { migration001 } from './001-init.js';
import { migration002 } from './002-sweep-jobs.js';
import { migration003 } from './003-sweep-rungs.js';
import { migration004 } from './004-pruned-val-acc.js';

/** Every migration, in order. A new schema version = one new numbered file + one line here. */
export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004];
