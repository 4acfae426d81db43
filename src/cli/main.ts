#!/usr/bin/env node
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { exitWithError } from './action.js';
import { commands } from './commands/index.js';
import { maskProcessOutput } from './masked-output.js';
import { storeKind } from '../util/db-location.js';
import { preloadHelpPlugins } from './parts-help.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

// tfjs, ink, the wasm backend and pg are imported by the commands that use them, when they run
// (src/cli/lazy.ts): listing runs or printing help starts without them.

const program = new Command('exp')
  .description('Experiment orchestration for anomalous sound detection (FGASpecNet, DCASE 2020 Task 2)')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions();

// A closed pipe (exp features --json | head) is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

maskProcessOutput();

for (const register of commands) register(program);

// Every --db (or $EXP_DB) is checked before any command starts: an unknown URL scheme is
// refused, never taken as a file name (see storeKind).
program.hook('preAction', (_program, command) => {
  const db: unknown = command.opts().db;
  if (typeof db === 'string') storeKind(db);
});

// `exp run --help --plugin FILE` lists the plug-in's parts: it must be imported before commander
// prints the help, which it does synchronously.
preloadHelpPlugins(program, process.argv.slice(2))
  .then(() => program.parseAsync(process.argv))
  .catch(exitWithError);
