export * from './app.js';
export * from './capabilities.js';
export * from './channels.js';
export * from './clock.js';
export * from './errors.js';
export * from './fanout.js';
export * from './identity.js';
export type * from './ports.js';
export * from './protocol.js';
