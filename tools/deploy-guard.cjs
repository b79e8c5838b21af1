'use strict';
// Serverless Framework (osls v3) plugin: secure by default. No stage (`local` included: its
// params open it for `npm run dev`, which loads no plugins) is packaged or deployed when its server API would be open to anyone (no PUBLISH_TOKEN: anyone who
// finds the URL could publish to every connection) or when its $connect authorizer would let no
// one in (no JWT key and no anonymous connections) or fail on every handshake (a short secret, a
// key set over plain HTTP or without an issuer). It reads the functions' resolved environment, so it checks what would
// be deployed, however the values got there (params, env, files). `npm run dev` loads no plugins.

const MIN_PUBLISH_TOKEN_LENGTH = 16;
/** What builds or ships the stack; `deploy function` updates a function's code and environment. */
const GUARDED_COMMANDS = new Set(['package', 'deploy', 'deploy function']);
/** As src/aws/auth-config.ts: HS256 keys shorter than the hash can be guessed from one token. */
const MIN_SECRET_BYTES = 32;

class DeployGuard {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    // `initialize` starts every command, before anything is built or sent: the guarded ones are checked then.
    this.hooks = { initialize: () => this.checkIfGuarded() };
  }

  checkIfGuarded() {
    const command = (this.serverless.processedInput?.commands ?? []).join(' ');
    if (GUARDED_COMMANDS.has(command)) this.check();
  }

  check() {
    const service = this.serverless.service;
    const stage = this.options.stage ?? service.provider.stage;
    const problems = [];
    for (const name of service.getAllFunctions()) {
      const env = { ...service.provider.environment, ...service.getFunction(name).environment };
      problems.push(...publishTokenProblems(name, env), ...authorizerProblems(name, env));
    }
    if (problems.length === 0) return;
    throw new this.serverless.classes.Error(
      `Stage "${stage}" is not safe to deploy:\n  - ${[...new Set(problems)].join('\n  - ')}\n` +
        'See docs/deploy.md "Secure by default".',
      'EDGE_RELAY_DEPLOY_GUARD',
    );
  }
}

/** A value this plugin cannot read (a CloudFormation reference, a `{{resolve:...}}` dynamic reference) is taken as set. */
const unset = (value) => value === undefined || value === null || value === '';
const text = (value) => (typeof value === 'string' && !value.startsWith('{{resolve:') ? value : undefined);

function publishTokenProblems(name, env) {
  if (!('PUBLISH_TOKEN' in env)) return [];
  const token = env.PUBLISH_TOKEN;
  if (unset(token)) {
    return [
      `no publishToken: the server API of function "${name}" would let anyone on the internet publish to every ` +
        'connection. Give one: --param="publishToken=$(openssl rand -hex 32)"',
    ];
  }
  if (text(token) !== undefined && token.trim().length < MIN_PUBLISH_TOKEN_LENGTH) {
    return [
      `publishToken has ${token.trim().length} characters (spaces aside); use at least ${MIN_PUBLISH_TOKEN_LENGTH} ` +
        '(openssl rand -hex 32)',
    ];
  }
  return [];
}

function authorizerProblems(name, env) {
  if (!['JWT_SECRET', 'JWT_JWKS_URL', 'ALLOW_ANONYMOUS'].some((key) => key in env)) return [];
  const problems = [];
  const secret = text(env.JWT_SECRET);
  if (secret && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    problems.push(
      `the JWT secret of function "${name}" has ${Buffer.byteLength(secret)} bytes; HS256 needs at least ` +
        `${MIN_SECRET_BYTES} (openssl rand -base64 32)`,
    );
  }
  const jwksUrl = text(env.JWT_JWKS_URL);
  if (jwksUrl && !/^https:\/\//i.test(jwksUrl)) {
    problems.push(`the JWKS URL of function "${name}" must be https:// (got "${jwksUrl}")`);
  }
  if (jwksUrl && unset(env.JWT_ISSUER)) {
    problems.push(
      `the authorizer "${name}" checks a JWKS without an issuer: tokens from any app of that key set would pass. ` +
        'Give --param="jwtIssuer=https://<issuer>/" (and jwtAudience)',
    );
  }
  const anonymous = /^true$/i.test(String(env.ALLOW_ANONYMOUS ?? ''));
  if (unset(env.JWT_SECRET) && unset(env.JWT_JWKS_URL) && !anonymous) {
    problems.push(
      `no one could connect: the authorizer "${name}" has no key and anonymous connections are off. Give ` +
        '--param="jwtSecret=$(openssl rand -base64 32)" (HS256) or --param="jwksUrl=https://<issuer>/.well-known/jwks.json" ' +
        '(RS256/ES256), or open the stage with --param="allowAnonymous=true"',
    );
  }
  return problems;
}

module.exports = DeployGuard;
