import { Option } from 'commander';
import { collect } from './options.js';

/** `--plugin PATH` (repeatable), on every command that builds a model or a loss. */
export const pluginOption = (): Option =>
  new Option(
    '--plugin <path>',
    'a plug-in file: an ES module whose default export registers parts (branches, losses, systems...); repeatable; exp parts --plugin PATH lists them',
  )
    .argParser(collect)
    .default([]);
