import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _opcode: number;
  _payloadLength: number;
  _totalPayloadLength: number;
  haveLength(cb: (error?: Error) => void): void;
  createError(ctor: ErrorConstructor, message: string, prefix: boolean, statusCode: number, code: string): Error;
}

export interface SizeLimits {
  /** API Gateway's frame quota: 32 KB. */
  maxFrameBytes: number;
  /** API Gateway's message quota: 128 KB, however many frames it takes. */
  maxMessageBytes: number;
}

/** Which quota a frame broke, and by how much: enough for a log line the user can act on. */
export interface SizeViolation {
  limit: 'frame' | 'message';
  /** The frame's size, or the message's size so far including this frame. */
  bytes: number;
  maxBytes: number;
}

/**
 * API Gateway limits each WebSocket frame to 32 KB (a larger message must be fragmented) and each
 * message to 128 KB, and closes the connection with 1009 otherwise. Browsers never fragment, so a
 * 40 KB chat message from a browser fails on AWS; the emulator must fail it too. `ws` only limits
 * whole messages and closes without a reason, so this hooks its frame parser where it has read a
 * frame's length: `onViolation` closes the connection (with its reason) before `ws` sees the frame,
 * then the parser is stopped as `ws` stops it for its own limit. Returns false (and limits nothing)
 * if that internal hook point is not where this version of `ws` had it.
 */
export function limitFrameSize(
  socket: WebSocket,
  limits: SizeLimits,
  onViolation: (v: SizeViolation) => void,
): boolean {
  const receiver = (socket as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function')
    return false;
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: ReceiverInternals, cb) {
    const violation = this._opcode < 0x08 ? violationOf(this, limits) : undefined;
    // Control frames (opcode >= 8) are limited to 125 bytes by the protocol itself.
    if (violation) {
      onViolation(violation);
      cb(
        this.createError(
          RangeError,
          `${violation.limit} size exceeded`,
          false,
          1009,
          'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
        ),
      );
      return;
    }
    haveLength.call(this, cb);
  };
  return true;
}

function violationOf(receiver: ReceiverInternals, limits: SizeLimits): SizeViolation | undefined {
  const frame = receiver._payloadLength;
  if (frame > limits.maxFrameBytes) return { limit: 'frame', bytes: frame, maxBytes: limits.maxFrameBytes };
  // ws adds the frame to the total after this hook; the message so far includes it.
  const message = (receiver._totalPayloadLength ?? 0) + frame;
  if (message > limits.maxMessageBytes) return { limit: 'message', bytes: message, maxBytes: limits.maxMessageBytes };
  return undefined;
}
