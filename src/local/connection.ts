import type { WebSocket } from 'ws';
import { MAX_TIMER_MS } from './dev-defaults.js';
import type { ConnectionIdentity } from './events.js';
import { limitFrameSize, type SizeViolation } from './frame-size-guard.js';
import { CLOSE, CLOSE_REASON, type EmulatorLimits } from './limits.js';

/** A live connection as the emulator tracks it. */
export interface LocalConnection extends ConnectionIdentity {
  socket: WebSocket;
  lastActiveAt: number;
  /** Marks activity: the idle timeout starts again. */
  touch(): void;
  /** Server-side close: forgets the connection at once, closes the socket, fires $disconnect. */
  end(code: number, reason: string): void;
}

export interface ConnectionsOptions {
  limits: EmulatorLimits;
  log(message: string): void;
  /** A text frame from the client. */
  onMessage(connection: LocalConnection, body: string): void;
  /** The connection is over, with the code and reason $disconnect reports. */
  onClose(connection: LocalConnection, code: number, reason: string): void;
}

/** The open connections and their lifecycle. */
export interface Connections {
  /** Open connections by id; a connection leaves it the moment the gateway considers it closed. */
  readonly byId: ReadonlyMap<string, LocalConnection>;
  /** Takes over an accepted socket: quotas, timers, frames, close. */
  open(socket: WebSocket, identity: ConnectionIdentity): LocalConnection;
  /** Closes every connection with 1001 (as a deployment would) and resolves once all sockets are closed. */
  closeAll(): Promise<void>;
}

/** How long shutdown waits for clients to answer the close frame before dropping them. */
const CLOSE_GRACE_MS = 1_000;

/**
 * A connection's life as API Gateway runs it: the idle and duration timeouts, the frame and
 * message size quotas, binary frames refused with 1003, and the close code and reason that
 * $disconnect reports (the server's, when the gateway closed it).
 */
export function createConnections({ limits, log, onMessage, onClose }: ConnectionsOptions): Connections {
  const byId = new Map<string, LocalConnection>();
  let frameLimitWarned = false;

  const open = (socket: WebSocket, identity: ConnectionIdentity): LocalConnection => {
    let oversized = false;
    const hooked = limitFrameSize(socket, limits, (violation) => {
      oversized = true;
      log(`connection ${identity.connectionId} closed ${CLOSE.messageTooBig}: ${describeViolation(violation)}`);
      connection.end(CLOSE.messageTooBig, CLOSE_REASON.messageTooBig);
    });
    if (!hooked && !frameLimitWarned) {
      frameLimitWarned = true;
      log('warning: this version of ws cannot be hooked; the 32 KB frame size limit is not enforced');
    }
    let serverClose: { code: number; reason: string } | undefined;
    const goAway = () => connection.end(CLOSE.goingAway, CLOSE_REASON.goingAway);
    const idle = setTimeout(goAway, Math.min(MAX_TIMER_MS, limits.idleTimeoutSeconds * 1000));
    const lifetime = setTimeout(goAway, Math.min(MAX_TIMER_MS, limits.maxConnectionSeconds * 1000));
    const connection: LocalConnection = {
      ...identity,
      socket,
      lastActiveAt: Date.now(),
      touch() {
        connection.lastActiveAt = Date.now();
        idle.refresh();
      },
      end(code, reason) {
        serverClose ??= { code, reason };
        byId.delete(identity.connectionId);
        socket.close(code, reason);
      },
    };
    byId.set(identity.connectionId, connection);

    socket.on('message', (data: Buffer, isBinary: boolean) => {
      // Frames that arrive after the gateway closed the connection go nowhere.
      if (!byId.has(identity.connectionId)) return;
      connection.touch();
      // API Gateway does not accept binary frames from clients: it closes with 1003.
      if (isBinary) return connection.end(CLOSE.unsupportedData, CLOSE_REASON.unsupportedData);
      onMessage(connection, data.toString('utf8'));
    });
    socket.on('close', (code: number, reason: Buffer) => {
      clearTimeout(idle);
      clearTimeout(lifetime);
      byId.delete(identity.connectionId);
      const closed = serverClose ?? { code, reason: reason.toString() };
      onClose(connection, closed.code, closed.reason);
    });
    socket.on('error', (error) => {
      // A size violation was closed (and logged) above; ws reports it again as an error.
      if (oversized) return;
      // ws closes with the status its error carries (1002 for a protocol error); that is the
      // code the client sees and $disconnect must report, not the 1006 of the teardown after.
      serverClose ??= { code: statusCodeOf(error) ?? 1006, reason: '' };
      byId.delete(identity.connectionId);
      log(`connection ${identity.connectionId}: ${error.message}`);
    });
    return connection;
  };

  const closeAll = async (): Promise<void> => {
    const sockets = [...byId.values()].map((connection) => connection.socket);
    for (const connection of [...byId.values()]) connection.end(CLOSE.goingAway, CLOSE_REASON.goingAway);
    const allClosed = Promise.all(
      sockets.map(
        (socket) =>
          new Promise((resolve) => {
            if (socket.readyState === socket.CLOSED) resolve(undefined);
            else socket.once('close', resolve);
          }),
      ),
    );
    const grace = setTimeout(() => {
      for (const socket of sockets) socket.terminate();
    }, CLOSE_GRACE_MS);
    await allClosed;
    clearTimeout(grace);
  };

  return { byId, open, closeAll };
}

function describeViolation({ limit, bytes, maxBytes }: SizeViolation): string {
  if (limit === 'frame') {
    return `a frame of ${bytes} bytes is over the ${maxBytes}-byte frame limit (send larger messages in fragments)`;
  }
  return `a message of more than ${maxBytes} bytes (${bytes} so far) is over the message limit`;
}

/** The close code a `ws` error carries (ws keeps it under a symbol). */
function statusCodeOf(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find((candidate) => candidate.description === 'status-code');
  const code = symbol ? (error as unknown as Record<symbol, unknown>)[symbol] : undefined;
  return typeof code === 'number' ? code : undefined;
}
