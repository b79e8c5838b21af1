import { connect } from './shared.js';

/** $connect entry point (serverless.yml: src/aws/handlers/connect.handler). */
export const handler = connect;
