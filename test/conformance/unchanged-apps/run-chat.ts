// Runs one chat scenario and prints its outcome as the last line of output (JSON), for the test
// that runs it in a network namespace with only a loopback interface (`unshare -n`).
import { type ChatApp, runChat } from './chat-scenario.js';

const app = JSON.parse(process.argv[2]!) as Omit<ChatApp, 'headers' | 'delivered'> & { authHeader?: boolean };
const outcome = await runChat({
  configPath: app.configPath,
  ...(app.authHeader && { headers: (user: string) => ({ Auth: user }) }),
});
console.log(`\n${JSON.stringify(outcome)}`);
process.exit(0);
