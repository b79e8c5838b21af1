import { resolve } from 'node:path';
import { startDevServer } from '../../src/local/dev-server.js';
import type { EmulatorLimits } from '../../src/local/limits.js';
import { connectClient, type TestClient } from '../helpers/ws-client.js';

/**
 * Where the conformance suite runs: the emulator (default), or a deployed stage of the fixture
 * service when WS_URL / MGMT_URL (probe) and WS_URL_STRICT / MGMT_URL_STRICT (strict) are set.
 */
export interface Target {
  wsUrl: string;
  /** The Management API endpoint including the stage, as the SDK client takes it. */
  managementUrl: string;
  stage: string;
  deployed: boolean;
  close(): Promise<void>;
}

export type Fixture = 'probe' | 'strict';

const DEPLOYED: Record<Fixture, { ws?: string; mgmt?: string }> = {
  probe: { ws: process.env.WS_URL, mgmt: process.env.MGMT_URL },
  strict: { ws: process.env.WS_URL_STRICT, mgmt: process.env.MGMT_URL_STRICT },
};

/** True when the suite targets a deployed stage: local-only checks (short quotas) are skipped. */
export const AGAINST_AWS = Boolean(process.env.WS_URL);

export async function startTarget(fixture: Fixture, limits: Partial<EmulatorLimits> = {}): Promise<Target> {
  const deployed = DEPLOYED[fixture];
  if (AGAINST_AWS) {
    if (!deployed.ws || !deployed.mgmt) {
      const suffix = fixture === 'strict' ? '_STRICT' : '';
      throw new Error(`set WS_URL${suffix} and MGMT_URL${suffix} for the ${fixture} fixture`);
    }
    const stage = new URL(deployed.ws).pathname.split('/').filter(Boolean).pop() ?? '';
    return { wsUrl: deployed.ws, managementUrl: deployed.mgmt, stage, deployed: true, close: async () => {} };
  }
  const stage = 'conformance';
  const server = await startDevServer({
    configPath: resolve(import.meta.dirname, `fixtures/${fixture}/serverless.yml`),
    stage,
    httpPort: 0,
    wsPort: 0,
    http: false,
    limits,
    log: () => {},
  });
  return {
    wsUrl: `${server.wsUrl}/${stage}`,
    managementUrl: `${server.managementUrl}/${stage}`,
    stage,
    deployed: false,
    close: server.close,
  };
}

export interface ProbeOptions {
  token?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Connects to the probe service, passing its authorizer unless told otherwise. */
export function openProbe(
  target: Target,
  { token = 'allow', query = {}, headers = {} }: ProbeOptions = {},
): Promise<TestClient> {
  const params = new URLSearchParams({ ...(token && { token }), ...query });
  return connectClient(`${target.wsUrl}?${params}`, { headers: { 'X-Probe': 'yes', ...headers } });
}

/** Sends one frame and returns the next frame received. */
export async function ask(client: TestClient, frame: unknown): Promise<any> {
  client.send(frame);
  return client.next(10_000);
}

/** The probe's answer to an echo: event, context, environment. */
export function echo(client: TestClient, extra: Record<string, unknown> = {}): Promise<any> {
  return ask(client, { action: 'echo', ...extra });
}
