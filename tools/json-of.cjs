'use strict';
// `${file(./tools/json-of.cjs):namespaces}`: a part of serverless.yml as one JSON string, for an
// environment variable (Lambda's values are strings). osls calls the function with its own resolver,
// under `serverless package` / `deploy` and under `npm run dev` (src/local/osls-configuration.ts) alike.
const jsonOf =
  (path) =>
  async ({ resolveConfigurationProperty }) =>
    JSON.stringify((await resolveConfigurationProperty(path)) ?? {});

module.exports = {
  namespaces: jsonOf(['custom', 'namespaces']),
};
