import { runFanout } from './fanout-scenario.js';
import { startDevServer, startRawServer } from './targets.js';
const n = Number(process.argv[2] ?? 1000), m = Number(process.argv[3] ?? 20);
for (const start of [startRawServer, startDevServer]) {
  const target = await start();
  console.log(JSON.stringify(await runFanout(target, { clients: n, broadcasts: m })));
  await target.stop();
}
