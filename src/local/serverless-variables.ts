import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCloudFormationYaml } from './cloudformation-yaml.js';

/** A serverless.yml variable that cannot be resolved locally; the message names it. */
export class VariableError extends Error {}

export interface VariableSources {
  /** The directory serverless.yml is in; ${file(...)} paths are relative to it. */
  serviceDir: string;
  /** --stage, --region and other CLI options, for ${opt:...}. */
  options: Record<string, string | undefined>;
  env: Record<string, string | undefined>;
}

// Left alone for CloudFormation and API Gateway: ${AWS::Region} and ${LogicalId} / ${Res.Attr}
// (Fn::Sub), and ${request.body.action} (a selection expression) — no `source:` in them.
const VARIABLE = /\$\{(?!AWS::|[\w.]+\})([^${}]*)\}/;

/**
 * Resolves Serverless Framework v3 variables (${self:...}, ${sls:stage}, ${opt:...},
 * ${env:...}, ${file(...)} with ', fallback') in a parsed serverless.yml, innermost first.
 */
export function resolveVariables(config: Record<string, unknown>, sources: VariableSources): Record<string, unknown> {
  const resolving = new Set<string>();

  const resolveValue = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') return resolveString(value, where);
    if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, `${where}[${i}]`));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, resolveValue(item, where ? `${where}.${key}` : key)]),
      );
    }
    return value;
  };

  const resolveString = (text: string, where: string): unknown => {
    // Resolved values are parked behind placeholders so that a value containing `${...}` is
    // never read as a variable itself.
    const parked: unknown[] = [];
    const park = (value: unknown) => `\u0000${parked.push(value) - 1}\u0000`;
    const unpark = (value: string): unknown => {
      const whole = /^\u0000(\d+)\u0000$/.exec(value);
      if (whole) return parked[Number(whole[1])];
      return value.replace(/\u0000(\d+)\u0000/g, (_m, index: string) => String(parked[Number(index)]));
    };
    let current = text;
    for (let match = VARIABLE.exec(current); match; match = VARIABLE.exec(current)) {
      const resolved = resolveExpression(unpark(match[1]!) as string, where);
      const isWhole = match[0] === current;
      if (!isWhole && typeof resolved === 'object' && resolved !== null) {
        throw new VariableError(`${where}: \${${match[1]}} is an object and cannot be part of a string`);
      }
      const before = current.slice(0, match.index);
      // A nested variable in fallback position is a value, not part of an address: quote it.
      const isFallback = /,\s*$/.test(before) && before.includes('${');
      const replacement = isFallback ? `'${park(resolved)}'` : park(resolved);
      current = before + replacement + current.slice(match.index + match[0].length);
    }
    return unpark(current);
  };

  const resolveExpression = (expression: string, where: string): unknown => {
    const [reference, ...fallbacks] = splitTopLevel(expression);
    for (const part of [reference!, ...fallbacks]) {
      const value = resolvePart(part.trim(), where);
      if (value !== undefined && value !== null) return value;
    }
    if (fallbacks.length === 0) {
      throw new VariableError(`${where}: variable \${${expression}} has no value and no fallback`);
    }
    return undefined;
  };

  const resolvePart = (part: string, where: string): unknown => {
    const literal = /^(['"])(.*)\1$/.exec(part);
    if (literal) return literal[2];
    if (/^-?\d+(\.\d+)?$/.test(part)) return Number(part);
    if (part === 'true' || part === 'false') return part === 'true';
    const file = /^file\((.+?)\)(?::(.+))?$/.exec(part);
    if (file) return readFileVariable(file[1]!, file[2], where);
    const colon = part.indexOf(':');
    const source = colon < 0 ? part : part.slice(0, colon);
    const address = colon < 0 ? '' : part.slice(colon + 1);
    switch (source) {
      case 'self':
        return resolveSelf(address, where);
      case 'sls':
        // As the framework does: --stage first, then provider.stage.
        if (address === 'stage') return sources.options.stage ?? resolveSelf('provider.stage', where) ?? 'dev';
        if (address === 'instanceId') return 'local';
        break;
      case 'opt':
        return sources.options[address];
      case 'param':
        return resolveParam(address, where);
      case 'env':
        return sources.env[address];
    }
    throw new VariableError(`${where}: variable source "${source}" in \${${part}} cannot be resolved locally`);
  };

  /** `params:` of the stage, then `params.default`. */
  const resolveParam = (name: string, where: string): unknown => {
    const stage = resolvePart('sls:stage', where);
    return resolveSelf(`params.${stage}.${name}`, where) ?? resolveSelf(`params.default.${name}`, where);
  };

  const resolveSelf = (address: string, where: string): unknown => {
    if (resolving.has(address)) throw new VariableError(`${where}: \${self:${address}} refers to itself`);
    resolving.add(address);
    try {
      const raw = address === '' ? config : getPath(config, address);
      return raw === undefined ? undefined : resolveValue(raw, address);
    } finally {
      resolving.delete(address);
    }
  };

  const readFileVariable = (path: string, address: string | undefined, where: string): unknown => {
    const file = resolve(sources.serviceDir, path.trim().replace(/^['"]|['"]$/g, ''));
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new VariableError(`${where}: \${file(${path})} cannot be read (${file})`);
    }
    const parsed = file.endsWith('.json') ? JSON.parse(text) : parseCloudFormationYaml(text);
    const value = address ? getPath(parsed, address) : parsed;
    // Variables inside the included file resolve against this service, like Serverless does.
    return resolveValue(value, where);
  };

  return resolveValue(config, '') as Record<string, unknown>;
}

/** Reads a dotted path (a.b.c) from nested objects. */
function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function splitTopLevel(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}
