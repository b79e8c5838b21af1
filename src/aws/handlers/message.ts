import { message } from './shared.js';

/** sendmessage and $default entry point (serverless.yml: src/aws/handlers/message.handler). */
export const handler = message;
