import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { createConnectAdmission } from './connect-admission.js';
import type { Dispatch } from './dispatch.js';
import { type ApiIdentity, type ConnectionIdentity, connectEvent, newApiGatewayId } from './events.js';
import { CLOSE } from './limits.js';

export interface HandshakeOptions {
  /** The ARN a REQUEST authorizer's policy is evaluated against. */
  methodArn: string;
  api: ApiIdentity;
  dispatch: Pick<Dispatch, 'route' | 'invoke' | 'disconnect'>;
  /**
   * Settles once the service's functions are loaded (true) or the API shuts down first (false):
   * handshakes that arrive before wait for it, so none meets a function that is not loaded yet.
   */
  ready: Promise<boolean>;
  /** The handshake succeeded: the connection starts. */
  accept(socket: WebSocket, identity: ConnectionIdentity): void;
  log(message: string): void;
}

/**
 * The upgrade request as API Gateway answers it, as a Fastify plugin (@fastify/websocket must be
 * registered): 426 without an upgrade, 400 for a handshake the WebSocket layer would refuse, then
 * admission (authorizer, $connect) decides; a refused handshake gets the gateway's status.
 */
export async function handshake(app: FastifyInstance, options: HandshakeOptions): Promise<void> {
  const { api, dispatch } = options;
  const admit = createConnectAdmission({
    connect: dispatch.route('$connect'),
    methodArn: options.methodArn,
    invoke: dispatch.invoke,
    log: options.log,
  });
  const admitted = new WeakMap<FastifyRequest['raw'], { identity: ConnectionIdentity; onAccept(): void }>();

  app.addHook('preValidation', async (request, reply) => {
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
      return reply.code(426).send({ message: 'Upgrade Required: connect with a WebSocket client' });
    }
    // A handshake the WebSocket layer would refuse never reaches $connect, as on AWS.
    const key = request.headers['sec-websocket-key'];
    if (
      request.headers['sec-websocket-version'] !== '13' ||
      typeof key !== 'string' ||
      !/^[A-Za-z0-9+/]{22}==$/.test(key)
    ) {
      return reply.code(400).send({ message: 'Bad Request: invalid WebSocket handshake' });
    }
    if (!(await options.ready)) {
      return reply.code(503).send({ message: 'Service Unavailable: the emulator is shutting down' });
    }
    // A client that gave up while the functions loaded never reached the gateway: no $connect.
    if (request.raw.socket.destroyed) return reply.code(410).send();
    const identity: ConnectionIdentity = {
      connectionId: newApiGatewayId(),
      connectedAt: Date.now(),
      sourceIp: request.ip,
      userAgent: request.headers['user-agent'],
    };
    const event = connectEvent(api, identity, {
      rawHeaders: request.raw.rawHeaders,
      query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
    });
    // A client that leaves while $connect runs (or before the upgrade completes) still gets
    // its $disconnect, as on AWS; once the WebSocket takes over, its own close handler does.
    const socket = request.raw.socket;
    const leftEarly = () => void dispatch.disconnect(identity, CLOSE.goingAway, '');
    const refusal = await admit(event, identity);
    if (refusal !== undefined) return reply.code(refusal).send({ message: refusalMessage(refusal) });
    if (socket.destroyed || socket.readableEnded) {
      leftEarly();
      return reply.code(410).send();
    }
    socket.once('close', leftEarly);
    admitted.set(request.raw, { identity, onAccept: () => socket.off('close', leftEarly) });
  });

  app.get('/*', { websocket: true }, (socket, request) => {
    const pending = admitted.get(request.raw);
    if (!pending) return socket.close(CLOSE.goingAway);
    admitted.delete(request.raw);
    pending.onAccept();
    options.accept(socket, pending.identity);
  });
}

function refusalMessage(status: number): string {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status >= 500) return 'Internal server error';
  return 'Connection refused';
}
