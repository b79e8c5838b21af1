import { parseArgs } from 'node:util';
import { RelayError } from '../core/errors.js';
import { PROJECT_ROOT } from './dev-identity.js';
import { createDevTokenSigner, DEV_SECRET_FILE, devSecret } from './dev-tokens.js';

const USAGE = `Usage: npm run -s token -- --user NAME [--info JSON] [--channels JSON] [--expires-in SPAN]

Prints a token that npm run dev accepts (signed with JWT_SECRET when set, else with the dev
secret kept in ${DEV_SECRET_FILE}). Connect with ws://127.0.0.1:3001/?token=<token>.

Options:
  --user NAME          the token's sub: the user id others see
  --info JSON          shown to others with every message, e.g. '{"name":"Alice"}' (at most 1 KB)
  --channels JSON      capabilities, e.g. '{"chat:*":["subscribe","publish"]}' (default: DEFAULT_CAPABILITIES)
  --expires-in SPAN    e.g. 15m, 24h, 7d (default 24h)
  -h, --help           show this help
`;

class UsageError extends RelayError {
  override name = 'UsageError';
}

/** `npm run token`: a dev token on stdout, nothing else, so `$(npm run -s token -- --user alice)` works. */
async function main(): Promise<void> {
  const { values } = parseTokenArgs(process.argv.slice(2));
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.user) throw new UsageError('--user is required, e.g. npm run token -- --user alice');
  const signer = createDevTokenSigner(devSecret(PROJECT_ROOT, process.env));
  const token = await signer.sign({
    user: values.user,
    info: jsonOption(values.info, '--info'),
    channels: jsonOption(values.channels, '--channels'),
    expiresIn: values['expires-in'] ? expiresIn(values['expires-in']) : undefined,
  });
  console.log(token);
}

function parseTokenArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: 'string' },
        info: { type: 'string' },
        channels: { type: 'string' },
        'expires-in': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (npm run token -- --help lists the options)`);
  }
}

function jsonOption(raw: string | undefined, option: string): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new UsageError(`${option} must be JSON, got ${JSON.stringify(raw)}`);
  }
}

/** jose's time spans (`30s`, `15m`, `24h`, `7d`); anything else would make jose throw a less helpful error. */
function expiresIn(raw: string): string {
  if (
    !/^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/i.test(
      raw,
    )
  ) {
    throw new UsageError(`--expires-in must be a span like 15m, 24h or 7d, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

main().catch((error: unknown) => {
  // Bad input gets one line; anything else is a bug and keeps its stack.
  console.error(error instanceof RelayError ? `error: ${error.message}` : error);
  process.exit(1);
});
