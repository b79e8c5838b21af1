import { Worker } from 'node:worker_threads';

export interface FragmentedSend {
  url: string;
  headers?: Record<string, string>;
  /** The message, sent as one text message... */
  text: string;
  /** ...in frames of this many bytes (a single frame when it is at least the text's length). */
  frameBytes: number;
  /** Gives up (and reports code 0) after this long. */
  timeoutMs?: number;
}

/**
 * Opens a real `ws` client in its own thread, sends one message in frames, and resolves with the
 * close code and reason the client saw. Its own event loop matters: a client sharing the server's
 * loop never races it, so a close frame lost to a torn-down socket (1006) would go unseen.
 */
export function sendInThread(send: FragmentedSend): Promise<{ code: number; reason: string }> {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const WebSocket = require('ws');
    const { url, headers, text, frameBytes, timeoutMs } = workerData;
    const socket = new WebSocket(url, { headers });
    const timer = setTimeout(() => { parentPort.postMessage({ code: 0, reason: 'timed out' }); socket.terminate(); },
      timeoutMs);
    socket.on('error', () => {});
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      parentPort.postMessage({ code: 0, reason: 'handshake refused with ' + response.statusCode });
      socket.terminate();
    });
    socket.on('open', () => {
      for (let offset = 0; offset < text.length; offset += frameBytes) {
        socket.send(text.slice(offset, offset + frameBytes), { fin: offset + frameBytes >= text.length });
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      parentPort.postMessage({ code, reason: reason.toString() });
    });
    `,
    { eval: true, workerData: { headers: {}, timeoutMs: 10_000, ...send } },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (result) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
