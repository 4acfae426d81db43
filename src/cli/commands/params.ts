import type { Command } from 'commander';
import { action } from '../action.js';

// Placeholder registration: the owner of this command replaces the action.
export function register(program: Command): void {
  program
    .command('params')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(
      action(() => {
        throw new Error('exp params is not built yet');
      }),
    );
}
