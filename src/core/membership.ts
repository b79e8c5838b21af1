import type { Namespaces } from './channels.js';
import { DEFAULT_CHANNEL, namespaceOf, optionsFor, personalChannelOwner } from './channels.js';
import { InvalidMessageError } from './errors.js';
import { type FanoutDeps, fanOut } from './fanout.js';
import type { ConnectionStore, PresenceMember } from './ports.js';
import { membershipFrame } from './protocol.js';

/** What presence and join/leave need: the members and who they are, and a way to reach them. */
export interface MembershipDeps extends FanoutDeps {
  store: Pick<ConnectionStore, 'members' | 'presence' | 'remove' | 'dropMembership'>;
  namespaces: Namespaces;
}

/** Who is subscribed to `channel`, one entry per connection; `forbidden` where the namespace keeps no presence. */
export async function listPresence(channel: string, deps: MembershipDeps): Promise<PresenceMember[]> {
  if (!optionsFor(channel, deps.namespaces).presence) {
    throw new InvalidMessageError(
      'forbidden',
      `"${channel}" has no presence (namespace "${namespaceOf(channel)}" has presence off)`,
    );
  }
  return deps.store.presence(channel);
}

/**
 * Tells the other members of a joinLeave channel that `member` joined or left; nothing elsewhere.
 * The member itself is skipped: it has its own reply (subscribed, unsubscribed) or is gone.
 */
export async function announce(
  type: 'join' | 'leave',
  channel: string,
  member: PresenceMember,
  deps: MembershipDeps,
): Promise<void> {
  if (!optionsFor(channel, deps.namespaces).joinLeave || isAutomatic(channel)) return;
  const frame = membershipFrame(type, channel, member);
  await fanOut(channel, deps.store.members(channel), frame, deps, member.connectionId);
}

/**
 * The channels every connection joins at $connect (`default`, its personal one) announce nothing:
 * $connect has no sender, so there would be leaves without joins.
 */
function isAutomatic(channel: string): boolean {
  return channel === DEFAULT_CHANNEL || personalChannelOwner(channel) !== undefined;
}

/**
 * Forgets a connection ($disconnect, or Gone on a delivery) and announces its leave in each
 * joinLeave channel it was in. Only the caller that deleted the record announces, so concurrent
 * forgets of one connection send one leave; each leave fan-out can forget further gone members,
 * and each of those is forgotten once, so this ends. `alsoChannels` are memberships the record
 * may not list (a subscribe that raced $disconnect wrote one after the record was gone; its join
 * went out, so its leave must too).
 */
export async function forgetConnection(
  connectionId: string,
  alsoChannels: readonly string[],
  deps: MembershipDeps,
): Promise<void> {
  const removed = await deps.store.remove(connectionId);
  const leaves: [string, PresenceMember][] = (removed?.channels ?? []).map((channel) => [
    channel,
    { connectionId, userId: removed!.userId, info: removed!.info },
  ]);
  for (const channel of alsoChannels) {
    if (removed?.channels.includes(channel)) continue;
    const orphan = await deps.store.dropMembership(connectionId, channel);
    if (orphan) leaves.push([channel, orphan]);
  }
  for (const [channel, member] of leaves) await announce('leave', channel, member, deps);
}
