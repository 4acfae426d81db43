export * from './schema.js';
export * from './load.js';
export * from './hash.js';
export * from './upgrade.js';
