/** API Gateway's WebSocket connection limits (its quotas page): 10 minutes idle, 2 hours in all. */
const API_GATEWAY_LIMITS = { idleTimeoutSeconds: 10 * 60, maxConnectionSeconds: 2 * 60 * 60 };

/** A deployment's limits; what is absent is API Gateway's (the emulator's config.json names shorter ones). */
export interface ConnectionLimits {
  idleTimeoutSeconds?: number;
  maxConnectionSeconds?: number;
}

/**
 * The heartbeat and handover for `limits`: a ping at half the idle timeout, and a handover 5 minutes before
 * the duration limit, or at half of it if that is later. At API Gateway's limits: 5 minutes and 1 h 55 min,
 * the client's defaults.
 */
export function timingFor(limits: ConnectionLimits = {}): { heartbeatIntervalMs: number; maxConnectionMs: number } {
  const idleMs = (limits.idleTimeoutSeconds ?? API_GATEWAY_LIMITS.idleTimeoutSeconds) * 1000;
  const limitMs = (limits.maxConnectionSeconds ?? API_GATEWAY_LIMITS.maxConnectionSeconds) * 1000;
  return { heartbeatIntervalMs: idleMs / 2, maxConnectionMs: Math.max(limitMs / 2, limitMs - 5 * 60_000) };
}
