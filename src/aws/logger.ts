import type { Logger } from '../core/index.js';

/** Structured one-line JSON logs, which CloudWatch Logs Insights can query. */
export const jsonLogger: Logger = {
  info: (message, details) => console.log(JSON.stringify({ level: 'info', message, ...details })),
  warn: (message, details) => console.warn(JSON.stringify({ level: 'warn', message, ...details })),
  error: (message, details) => console.error(JSON.stringify({ level: 'error', message, ...details })),
};
