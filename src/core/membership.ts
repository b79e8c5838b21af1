import type { Namespaces } from './channels.js';
import { namespaceOf, optionsFor } from './channels.js';
import { InvalidMessageError } from './errors.js';
import { type FanoutDeps, fanOut } from './fanout.js';
import type { ConnectionStore, PresenceMember } from './ports.js';
import { membershipFrame } from './protocol.js';

/** What presence and join/leave need: the members and who they are, and a way to reach them. */
export interface MembershipDeps extends FanoutDeps {
  store: Pick<ConnectionStore, 'members' | 'presence' | 'remove'>;
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
  if (!optionsFor(channel, deps.namespaces).joinLeave) return;
  const frame = membershipFrame(type, channel, member);
  await fanOut(channel, deps.store.members(channel), frame, deps, member.connectionId);
}

/**
 * Forgets a connection ($disconnect, or Gone on a delivery) and announces its leave in each
 * joinLeave channel it was in. Only the caller that deleted the record announces, so concurrent
 * forgets of one connection send one leave; each leave fan-out can forget further gone members,
 * and each of those is forgotten once, so this ends.
 */
export async function forgetConnection(
  connectionId: string,
  alsoChannels: readonly string[],
  deps: MembershipDeps,
): Promise<void> {
  const removed = await deps.store.remove(connectionId, alsoChannels);
  if (!removed) return;
  const member = { connectionId, userId: removed.userId, info: removed.info };
  for (const channel of removed.channels) await announce('leave', channel, member, deps);
}
