import { API_GATEWAY_MAX_MESSAGE_BYTES } from '../core/index.js';

/** API Gateway WebSocket quotas the emulator enforces; each can be changed from the command line. */
export interface EmulatorLimits {
  /** Message payload: 128 KB on AWS; larger messages close the connection with 1009. */
  maxMessageBytes: number;
  /** Frame size: 32 KB on AWS; a larger frame closes the connection with 1009. */
  maxFrameBytes: number;
  /** Idle connection timeout: 10 minutes on AWS. */
  idleTimeoutSeconds: number;
  /** Connection duration: 2 hours on AWS. */
  maxConnectionSeconds: number;
}

export const AWS_LIMITS: EmulatorLimits = {
  maxMessageBytes: API_GATEWAY_MAX_MESSAGE_BYTES,
  maxFrameBytes: 32 * 1024,
  idleTimeoutSeconds: 10 * 60,
  maxConnectionSeconds: 2 * 60 * 60,
};

/** WebSocket close codes API Gateway uses. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  messageTooBig: 1009,
} as const;

/**
 * Close reasons the emulator sends. AWS does not document the reason text of its own closes;
 * these say what happened in words a developer recognises.
 */
export const CLOSE_REASON = {
  goingAway: 'Going away',
  messageTooBig: 'Message too big',
  unsupportedData: 'Binary frames are not supported',
} as const;
