export * from './errors.js';
export * from './protocol.js';
export type * from './ports.js';
export * from './fanout.js';
export * from './app.js';
