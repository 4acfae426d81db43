import type { Command } from 'commander';
import { action } from '../action.js';

// Placeholder registration: the owner of this command replaces the action.
export function register(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(
      action(() => {
        throw new Error('exp bench is not built yet');
      }),
    );
}
