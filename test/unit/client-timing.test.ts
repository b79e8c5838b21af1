import { describe, expect, it } from 'vitest';
import { timingFor } from '../../src/client/index.js';

describe('timingFor', () => {
  it('at API Gateway’s limits (none given): a ping every 5 minutes, a handover at 1 h 55 min', () => {
    expect(timingFor()).toEqual({ heartbeatIntervalMs: 5 * 60_000, maxConnectionMs: 115 * 60_000 });
  });

  it('a ping at half the idle timeout; a handover 5 minutes before the limit, or at half of a short one', () => {
    expect(timingFor({ idleTimeoutSeconds: 3, maxConnectionSeconds: 6 })).toEqual({
      heartbeatIntervalMs: 1500,
      maxConnectionMs: 3000,
    });
    expect(timingFor({ maxConnectionSeconds: 3600 }).maxConnectionMs).toBe(55 * 60_000);
    expect(timingFor({ maxConnectionSeconds: 3600 }).heartbeatIntervalMs).toBe(5 * 60_000);
  });
});
