import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../../src/local/dev-server.js';
import { connectUser, startChannelServer, unique } from '../helpers/dev-server.js';

const error = (code: string, id?: string) => ({
  type: 'error',
  ...(id === undefined ? {} : { id }),
  code,
  message: expect.any(String),
});

// Every bad frame gets exactly one error reply (with its id when the id itself is valid), and
// the connection stays usable: a ping right after still gets its pong, and nothing else arrives.
describe('bad frames over protocol v1', () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startChannelServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  // A namespace without join/leave: the cases' connections come and go on one channel.
  const channel = unique('plain:frames-');
  it.each([
    [
      'a channel name with a space',
      { action: 'subscribe', channel: 'chat lobby', id: 'f1' },
      error('invalid_channel', 'f1'),
    ],
    [
      'a channel name of 129 characters',
      { action: 'subscribe', channel: 'c'.repeat(129), id: 'f2' },
      error('invalid_channel', 'f2'),
    ],
    ['an empty channel name', { action: 'publish', channel: '', data: 1, id: 'f3' }, error('invalid_channel', 'f3')],
    ['a channel that is a number', { action: 'subscribe', channel: 42, id: 'f4' }, error('invalid_request', 'f4')],
    [
      'a channel that is an object',
      { action: 'unsubscribe', channel: { name: 'x' }, id: 'f5' },
      error('invalid_request', 'f5'),
    ],
    ['an id that is a number', { action: 'subscribe', channel, id: 7 }, error('invalid_request')],
    ['an id of 65 characters', { action: 'ping', id: 'i'.repeat(65) }, error('invalid_request')],
    ['an unknown action', { action: 'dance', id: 'f6' }, error('unknown_action', 'f6')],
    ['a publish without data', { action: 'publish', channel, id: 'f7' }, error('missing_data', 'f7')],
    ['a sendmessage without data', { action: 'sendmessage' }, error('missing_data')],
    ['no action', { channel, id: 'f8' }, error('missing_action', 'f8')],
    ['a JSON array', [{ action: 'ping', id: 'f9' }], error('not_an_object')],
    ['text that is not JSON', 'subscribe me', error('invalid_json')],
  ])('%s gets exactly one error, and the connection stays usable', async (_name, frame, expected) => {
    const client = await connectUser(server, { sub: 'sender' });
    const bystander = await connectUser(server, { sub: 'bystander' });

    client.send(frame);
    expect(await client.next()).toEqual(expected);
    expect(await client.request({ action: 'ping', id: 'after' })).toEqual({ type: 'pong', id: 'after' });
    expect(await client.request({ action: 'subscribe', channel })).toMatchObject({ type: 'subscribed', channel });

    expect(await client.settle(300)).toEqual([]);
    expect(await bystander.settle(0)).toEqual([]);
    await Promise.all([client.close(), bystander.close()]);
  });

  it('a subscribe without a channel is a bad request, answered with its id', async () => {
    const client = await connectUser(server, { sub: 'sender' });
    client.send({ action: 'subscribe', id: 'nochannel' });
    const reply = await client.next();
    // A missing field is a bad request; invalid_channel is for a name that breaks the rules.
    expect(reply).toMatchObject({
      type: 'error',
      id: 'nochannel',
      code: 'invalid_request',
      message: expect.any(String),
    });
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });

  it('bad frames in a burst get one error each, matched by id', async () => {
    const client = await connectUser(server, { sub: 'burst' });
    const bad = Array.from({ length: 10 }, (_, i) => ({ action: 'subscribe', channel: `bad name ${i}`, id: `b${i}` }));
    for (const frame of bad) client.send(frame);

    const replies = await Promise.all(bad.map((frame) => client.nextMatching((f) => f.id === frame.id)));

    expect(replies).toEqual(bad.map((frame) => error('invalid_channel', frame.id)));
    expect(await client.settle(300)).toEqual([]);
    await client.close();
  });
});
