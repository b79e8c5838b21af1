/**
 * API Gateway's WebSocket message payload quota (128 KB): PostToConnection refuses larger data,
 * and the local emulator enforces the same number on incoming messages.
 */
export const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * Room kept in every reply frame for its envelope (type, id, channel, position, `more`): the
 * longest escaped id and channel need under 700 bytes.
 */
export const REPLY_ENVELOPE_BYTES = 1024;

/**
 * What a page of a history or presence reply may hold, and so the largest message frame: one
 * publication always fits a history page alone, whatever its size.
 */
export const REPLY_PAGE_BYTES = API_GATEWAY_MAX_MESSAGE_BYTES - REPLY_ENVELOPE_BYTES;

/**
 * Splits JSON texts into pages whose items, comma-joined, take at most `budgetBytes` (UTF-8), in
 * order. An item larger than the budget gets a page of its own. Always at least one page.
 */
export function pageByBytes(items: readonly string[], budgetBytes: number): string[][] {
  const pages: string[][] = [[]];
  let used = 0;
  for (const item of items) {
    const bytes = Buffer.byteLength(item);
    const page = pages[pages.length - 1]!;
    const cost = page.length === 0 ? bytes : bytes + 1;
    if (page.length > 0 && used + cost > budgetBytes) {
      pages.push([item]);
      used = bytes;
    } else {
      page.push(item);
      used += cost;
    }
  }
  return pages;
}
