// The baseline: a bare `ws` server that broadcasts every text frame it receives to every client.
// No database, no HTTP hop, no JSON work: the floor that Edge Relay's figures are divided by.
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of server.clients) client.send(data, { binary: isBinary });
  });
});
// Same courtesy as the dev server: a full collection before memory readings.
process.on('SIGUSR2', () => {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
  const { heapUsed, external, rss } = process.memoryUsage();
  console.log(`memory ${JSON.stringify({ rssBytes: rss, retainedBytes: heapUsed + external })}`);
});
server.on('listening', () => console.log(`ws://127.0.0.1:${server.address().port}`));
