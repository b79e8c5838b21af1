// The baseline: a bare `ws` server that broadcasts every text frame it receives to every client.
// No database, no HTTP hop, no JSON work: the floor that Edge Relay's figures are divided by.
import { WebSocketServer } from 'ws';
import { retainedBytesAfterGc } from '../src/local/memory-probe-thread.mjs';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of server.clients) client.send(data, { binary: isBinary });
  });
});
// Same courtesy and the same measure as the dev server: a full collection before memory readings.
process.on('SIGUSR2', () => {
  const retainedBytes = retainedBytesAfterGc();
  console.log(`memory ${JSON.stringify({ rssBytes: process.memoryUsage().rss, retainedBytes })}`);
});
server.on('listening', () => console.log(`ws://127.0.0.1:${server.address().port}`));
