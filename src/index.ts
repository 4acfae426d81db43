// Public library surface of exp-asd (interface.md, "Library exports").
export * from './config/index.js';
export { UserError } from './util/errors.js';
