/** Edge Relay's client: exactly-once, in-order delivery per channel over protocol v1, across reconnects. */
export { createClient, MAX_FRAME_BYTES } from './client.js';
export { ClientError } from './errors.js';
export { type ConnectionLimits, timingFor } from './timing.js';
export type * from './types.js';
