/** How sandboxes get AWS credentials: fake local ones (default), or the developer's own. */
export type AwsCredentialsMode = 'local' | 'inherit';

export const AWS_CREDENTIALS_MODES: readonly AwsCredentialsMode[] = ['local', 'inherit'];

/** Local endpoints accept any credentials, but the SDKs insist on having some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: 'local' };

/** A path no credentials or config file is at, so the SDKs find no profile there. */
const NO_FILE = '/nonexistent/edge-relay-emulator/aws';

/**
 * The AWS_* settings a sandbox keeps from the developer's environment in `local` mode: none of
 * them leads to credentials (Lambda's runtime sets the same kind of variables).
 */
const KEPT_AWS_VARIABLE = new RegExp(
  '^AWS_(?:REGION|DEFAULT_REGION|SDK_.+|NODEJS_.+|LAMBDA_.+|XRAY_.+|EXECUTION_ENV|ENDPOINT_URL(?:_.+)?|' +
    'USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT|MAX_ATTEMPTS|RETRY_MODE)$',
);

export interface SandboxEnvOptions {
  region: string;
  credentials: AwsCredentialsMode;
  dynamodbEndpoint: string;
  managementUrl: string;
}

/**
 * What every sandbox starts from (each function adds its own environment on top): the
 * developer's environment without anything that leads to real AWS credentials (profiles, keys,
 * session tokens, role and container settings, credential files), unless `inherit` is asked for.
 */
export function sandboxEnvironment(
  env: Record<string, string | undefined>,
  options: SandboxEnvOptions,
): Record<string, string | undefined> {
  const inherit = options.credentials === 'inherit';
  const kept = inherit
    ? { ...env }
    : Object.fromEntries(
        Object.entries(env).filter(([name]) => !name.startsWith('AWS_') || KEPT_AWS_VARIABLE.test(name)),
      );
  return {
    ...kept,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    // inherit: the developer's own chain (keys, profile, SSO, container, web identity) exactly as it is.
    ...(!inherit && {
      // Lambda gives every function a key, a secret and a session token.
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: LOCAL_CREDENTIALS.sessionToken,
    }),
    ...(!inherit && {
      AWS_CONFIG_FILE: NO_FILE,
      AWS_SHARED_CREDENTIALS_FILE: NO_FILE,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    // SDK v2 prints an end-of-support notice when it loads; it is noise in the dev server's output.
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ?? '1',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: options.managementUrl,
  };
}
