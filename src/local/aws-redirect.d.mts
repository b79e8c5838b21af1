/** Where a redirected host's requests go. */
export interface RedirectTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface RedirectOptions {
  apiId: string;
  wsHost?: string;
  wsPort: number;
  dynamodb: string;
}

/** Which local service an AWS host:port stands for; undefined leaves it alone. */
export function redirectTargets(options: RedirectOptions): (host: string, port: number) => RedirectTarget | undefined;

/** Patches node:http(s) agents and installs undici's global dispatcher, inside a sandbox. */
export function installAwsRedirect(options: RedirectOptions): void;
