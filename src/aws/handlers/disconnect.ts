import { disconnect } from './shared.js';

/** $disconnect entry point (serverless.yml: src/aws/handlers/disconnect.handler). */
export const handler = disconnect;
