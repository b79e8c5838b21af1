import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _opcode: number;
  _payloadLength: number;
  haveLength(cb: (error?: Error) => void): void;
  createError(ctor: ErrorConstructor, message: string, prefix: boolean, statusCode: number, code: string): Error;
}

/**
 * API Gateway limits each WebSocket frame to 32 KB (a larger message must be fragmented) and
 * closes the connection with 1009 otherwise. Browsers never fragment, so a 40 KB chat message
 * from a browser fails on AWS; the emulator must fail it too. `ws` only limits whole messages,
 * so this hooks its frame parser where it has read a frame's length. Returns false (and limits
 * nothing) if that internal hook point is not where this version of `ws` had it.
 */
export function limitFrameSize(socket: WebSocket, maxFrameBytes: number): boolean {
  const receiver = (socket as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function')
    return false;
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: ReceiverInternals, cb) {
    // Control frames (opcode >= 8) are limited to 125 bytes by the protocol itself.
    if (this._opcode < 0x08 && this._payloadLength > maxFrameBytes) {
      cb(this.createError(RangeError, 'Frame size exceeded', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
      return;
    }
    haveLength.call(this, cb);
  };
  return true;
}
