import type { Command } from 'commander';
import { action } from '../action.js';

// Placeholder registration: the owner of this command replaces the action.
export function register(program: Command): void {
  program
    .command('export')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(
      action(() => {
        throw new Error('exp export is not built yet');
      }),
    );
}
