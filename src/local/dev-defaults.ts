/** What `npm run dev` uses when neither the command line nor the caller says otherwise. */
export const DEV_DEFAULTS = {
  host: '127.0.0.1',
  stage: 'local',
  httpPort: 3000,
  wsPort: 3001,
  /** Sandboxes per function, like a reserved concurrency: enough for bursts, bounded in memory. */
  maxConcurrency: 8,
} as const;

/** setTimeout's ceiling (about 24.8 days): longer quotas would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
