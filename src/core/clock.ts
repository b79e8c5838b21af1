import type { Clock } from './ports.js';

/** The wall clock, for the composition roots; tests inject their own. */
export const systemClock: Clock = { now: () => Date.now() };
