import { runFanout } from './fanout-scenario.js';
import { startDevServer } from './targets.js';

/** `tsx bench/profile.ts DIR [N] [M]`: one Edge Relay fan-out run with --cpu-prof profiles written to DIR. */
const [dir = 'bench/profiles', n = '1000', m = '20'] = process.argv.slice(2);
const target = await startDevServer(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
console.log(JSON.stringify(await runFanout(target, { clients: Number(n), broadcasts: Number(m) })));
await target.stop();
