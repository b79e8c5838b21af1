// Inside a sandbox: requests to this API's Management API and to DynamoDB, addressed to their
// AWS hostnames, reach the emulator's local services instead. Installed before the handler loads,
// so an unchanged handler (SDK v2 or v3, https.request, fetch) works as on AWS.
// Plain JavaScript: it runs in the worker before the TypeScript loader is registered.
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';

const require = createRequire(import.meta.url);
// undici's Agent and global-dispatcher slot only (the emulator's undici 6): loading the whole
// package (fetch, WebSocket, cache) would add about 50 ms to every sandbox's cold start.
const Agent = require('undici/lib/dispatcher/agent.js');
const { setGlobalDispatcher } = require('undici/lib/global.js');

/**
 * @typedef {{ host: string, port: number, tls: boolean }} Target
 * @typedef {{ apiId: string, wsHost?: string, wsPort: number, dynamodb: string }} RedirectOptions
 *   wsHost: where the WebSocket API listens (default 127.0.0.1);
 *   dynamodb: the local DynamoDB endpoint URL (embedded dynalite, or DYNAMODB_ENDPOINT).
 */

/** Which local service an AWS host:port stands for; undefined leaves it alone. */
export function redirectTargets({ apiId, wsHost = '127.0.0.1', wsPort, dynamodb }) {
  const local = { host: wsHost, port: wsPort, tls: false };
  const dynamoUrl = new URL(dynamodb);
  const dynamoTarget = {
    host: dynamoUrl.hostname.replace(/^\[|\]$/g, ''),
    port: Number(dynamoUrl.port || (dynamoUrl.protocol === 'https:' ? 443 : 80)),
    tls: dynamoUrl.protocol === 'https:',
  };
  const executeApiPrefix = `${apiId.toLowerCase()}.execute-api.`;
  const dynamodbPrefix = /^(?:dynamodb(?:-fips)?|\d{12}\.ddb)\./;
  /** @returns {Target | undefined} */
  return (rawHost, port) => {
    const host = String(rawHost).toLowerCase().replace(/\.$/, '');
    if (host.startsWith(executeApiPrefix) && isRegionalAwsHost(host.slice(executeApiPrefix.length))) return local;
    // A domainName of 127.0.0.1:PORT used with https (SDK v2 adds https:// to a scheme-less endpoint).
    if ((host === '127.0.0.1' || host === 'localhost') && port === wsPort) return local;
    const dynamodbMatch = dynamodbPrefix.exec(host);
    if (dynamodbMatch && isRegionalAwsHost(host.slice(dynamodbMatch[0].length))) return dynamoTarget;
    return undefined;
  };
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
let partitionOf;

/**
 * `rest` is `{region}.{suffix}` with the suffix of that region's partition (or its dual-stack one), as the
 * SDK builds AWS hosts: so `dynamodb.s3.amazonaws.com` (an S3 bucket) or `x.execute-api.example.com` are not.
 * The SDK's partition table loads only when a host looks like one of ours (it costs ~50 ms at first use).
 */
function isRegionalAwsHost(rest) {
  const dot = rest.indexOf('.');
  const region = rest.slice(0, dot);
  if (dot < 0 || !REGION.test(region)) return false;
  partitionOf ??= require('@aws-sdk/util-endpoints').partition;
  const { dnsSuffix, dualStackDnsSuffix } = partitionOf(region);
  const suffix = rest.slice(dot + 1);
  return suffix === dnsSuffix || suffix === dualStackDnsSuffix;
}

/**
 * Patches node:http(s) agents (SDK v2 and v3, https.request/get, libraries on Node's agents) and
 * installs undici's global dispatcher (global fetch).
 */
export function installAwsRedirect(options) {
  const targetOf = redirectTargets(options);
  for (const [mod, defaultPort] of [
    [require('node:https'), 443],
    [require('node:http'), 80],
  ]) {
    const original = mod.Agent.prototype.createConnection;
    // TLS starts only here (https.Agent), so a plain socket makes the request go out as HTTP/1.1
    // with the same path, headers (Host stays the AWS host) and body.
    mod.Agent.prototype.createConnection = function createConnection(connectOptions, callback) {
      const host = connectOptions?.host ?? connectOptions?.hostname ?? connectOptions?.servername;
      const port = Number(connectOptions?.port ?? defaultPort);
      const target = host === undefined ? undefined : targetOf(host, port);
      if (!target) return original.call(this, connectOptions, callback);
      // An https DYNAMODB_ENDPOINT keeps the agent's TLS options (ca, rejectUnauthorized); no SNI for IPs.
      return target.tls
        ? tls.connect({ ...connectOptions, host: target.host, port: target.port, servername: sniFor(target.host) })
        : net.connect({ host: target.host, port: target.port });
    };
  }
  setGlobalDispatcher(
    new Agent().compose((dispatch) => (dispatchOptions, handler) => {
      const origin = new URL(String(dispatchOptions.origin));
      const port = Number(origin.port || (origin.protocol === 'https:' ? 443 : 80));
      const target = targetOf(origin.hostname, port);
      if (!target) return dispatch(dispatchOptions, handler);
      const host = target.host.includes(':') ? `[${target.host}]` : target.host;
      const to = `${target.tls ? 'https' : 'http'}://${host}:${target.port}`;
      return dispatch(
        { ...dispatchOptions, origin: to, headers: withHost(dispatchOptions.headers, origin.host) },
        handler,
      );
    }),
  );
}

function sniFor(host) {
  return net.isIP(host) ? undefined : host;
}

/** Keeps the AWS Host header, as the node:https path does. */
function withHost(headers, host) {
  if (Array.isArray(headers)) {
    const pairs = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== 'host') pairs.push(headers[i], headers[i + 1]);
    }
    return [...pairs, 'host', host];
  }
  const rest = Object.fromEntries(Object.entries(headers ?? {}).filter(([key]) => key.toLowerCase() !== 'host'));
  return { ...rest, host };
}
