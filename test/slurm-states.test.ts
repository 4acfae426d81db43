import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLURM_STATES, describeEnd, faultsOf, activeOf, meaningOf } from '../src/executor/slurm-states.js';

// The one table that maps Slurm's job states to what exp does (src/executor/slurm-states.ts).
// States Slurm documents (squeue(1), JOB STATE CODES) and how a sweep treats each.

test('every Slurm job state: queued/running ones keep the sweep waiting, ended ones say whether a trial was stopped and whether a new array may help', () => {
  const expect: Record<string, [active: boolean, fault: boolean, resubmit: boolean]> = {
    PENDING: [true, false, false],
    RUNNING: [true, false, false],
    COMPLETING: [true, false, false],
    CONFIGURING: [true, false, false],
    SUSPENDED: [true, false, false],
    REQUEUED: [true, false, false],
    COMPLETED: [false, false, false],
    FAILED: [false, false, true],
    CANCELLED: [false, true, false],
    TIMEOUT: [false, true, true],
    OUT_OF_MEMORY: [false, true, false],
    NODE_FAIL: [false, true, true],
    BOOT_FAIL: [false, true, true],
    PREEMPTED: [false, true, true],
    DEADLINE: [false, true, false],
  };
  for (const [state, [active, fault, resubmit]] of Object.entries(expect)) {
    const m = meaningOf(state);
    assert.deepEqual([m.active, m.fault, m.resubmit], [active, fault, resubmit], state);
  }
  assert.match(meaningOf('OUT_OF_MEMORY').what, /OUT_OF_MEMORY/);
  assert.match(meaningOf('TIMEOUT').what, /time limit \(TIMEOUT\)/);
  // A state this exp does not know is an ended task of unknown cause, never one still running.
  assert.deepEqual([meaningOf('SOMETHING_NEW').active, meaningOf('SOMETHING_NEW').fault], [false, true]);
  for (const [state, m] of Object.entries(SLURM_STATES)) assert.ok(!(m.active && m.fault), state);
});

test('describeEnd: faults by state with their tasks, then counts of the rest', () => {
  const tasks = [
    { task: '7_0', state: 'COMPLETED', reason: 'None' },
    { task: '7_1', state: 'OUT_OF_MEMORY', reason: 'OutOfMemory' },
    { task: '7_2', state: 'COMPLETED', reason: 'None' },
    { task: '7_3', state: 'TIMEOUT', reason: 'TimeLimit' },
    { task: '7_4', state: 'PENDING', reason: 'Priority' },
  ];
  assert.equal(
    describeEnd(tasks.slice(0, 4)),
    'killed for using more memory than it asked for (OUT_OF_MEMORY): task 7_1; killed at its time limit (TIMEOUT): task 7_3; 2 completed',
  );
  assert.deepEqual(
    faultsOf(tasks).map((t) => t.task),
    ['7_1', '7_3'],
  );
  assert.deepEqual(
    activeOf(tasks).map((t) => t.task),
    ['7_4'],
  );
});
