/** Full jitter (AWS Architecture Blog): spreads reconnecting clients so they do not return in waves. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
