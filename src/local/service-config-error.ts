import { RelayError } from '../core/errors.js';

/** serverless.yml cannot be read, resolved or run locally; the message says what and where. */
export class ServiceConfigError extends RelayError {
  override name = 'ServiceConfigError';
}
