// The baseline: a bare `ws` server that broadcasts every text frame it receives to every client.
// No database, no HTTP hop, no JSON work: the floor that Edge Relay's figures are divided by.
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of server.clients) client.send(data, { binary: isBinary });
  });
});
server.on('listening', () => console.log(`ws://127.0.0.1:${server.address().port}`));
