// What Lambda's Node.js runtime (nodejs18.x and later) provides to handlers: SDK v3 only.

/** The package a bare specifier names: `@scope/name` or `name`. */
export function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** SDK v3 and the smithy packages it is built on live in the runtime's node_modules. */
export function providedByRuntime(specifier) {
  return /^@(?:aws-sdk|smithy)\//.test(specifier);
}

/** The one line a handler gets for a package it imports but nobody installed. */
export function missingPackageMessage(specifier, importer) {
  const name = packageName(specifier);
  const from = importer ? ` (imported by ${importer})` : '';
  if (providedByRuntime(specifier)) {
    return (
      `package ${name} is not installed${from}: Lambda's Node.js runtime provides it, ` +
      "but the emulator's copy of the SDK v3 does not include it; add it to the service's dependencies"
    );
  }
  return (
    `package ${name} is not installed${from}: Lambda's Node.js runtime provides only the AWS SDK v3 ` +
    `(@aws-sdk/*)${name === 'aws-sdk' ? ', not aws-sdk v2' : ''}; add ${name} to the service's dependencies`
  );
}
