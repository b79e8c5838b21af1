// Runs chat scenarios one after another and prints their outcomes, keyed by config path, as the
// last line of output (JSON): the test runs this in a network namespace with only a loopback
// interface (`unshare -n`), where no address but 127.0.0.1 can be reached.
import { networkInterfaces } from 'node:os';
import { type ChatOutcome, runChat } from './chat-scenario.js';

/** What the parent passes (functions do not cross a process boundary). */
export interface IsolatedApp {
  configPath: string;
  /** Send `Auth: <user>` in the handshake (the fixture's authorizer reads it). */
  authHeader?: boolean;
}

const apps = JSON.parse(process.argv[2]!) as IsolatedApp[];
/** Keyed by config path; `interfaces` lists the network interfaces this process saw. */
const outcomes: Record<string, ChatOutcome | { error: string } | string[]> = {
  interfaces: Object.keys(networkInterfaces()),
};
for (const app of apps) {
  outcomes[app.configPath] = await runChat({
    configPath: app.configPath,
    ...(app.authHeader && { headers: (user: string) => ({ Auth: user }) }),
  }).catch((error: unknown) => ({ error: String(error) }));
}
console.log(`\n${JSON.stringify(outcomes)}`);
process.exit(0);
