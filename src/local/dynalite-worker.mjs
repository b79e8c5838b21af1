// dynalite on a thread of its own: its request handling (JSON, validation, LevelDB) would
// otherwise share the emulator's thread with every socket. Plain JavaScript: no loader needed.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { answerMemoryProbes } from './memory-probe-thread.mjs';

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (error) => parentPort.postMessage({ type: 'error', message: error.message, code: error.code }));
server.listen(workerData.port, '127.0.0.1', () =>
  parentPort.postMessage({ type: 'listening', port: server.address().port }),
);
parentPort.on('message', (message) => {
  if (message === 'close') server.close(() => process.exit(0));
});
answerMemoryProbes(parentPort);
