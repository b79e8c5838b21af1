export * from './app.js';
export * from './clock.js';
export * from './errors.js';
export * from './fanout.js';
export type * from './ports.js';
export * from './protocol.js';
