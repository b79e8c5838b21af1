import { partitionOf } from '../aws/partitions.js';
import { ServiceConfigError } from './service-config-error.js';

/** What the emulator substitutes for AWS-side values in CloudFormation references. */
export interface LocalStack {
  region: string;
  stackName: string;
  accountId: string;
  /** Logical id → resource declaration (the template's `Resources`). */
  resources: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  /** Logical ids the emulator itself stands in for (WebsocketsApi → its api id). */
  emulated: Record<string, string>;
}

/**
 * Resolves Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::Select / Fn::Split to local values,
 * e.g. `!Ref ConnectionsTable` to the table's name in the embedded DynamoDB.
 */
export function resolveIntrinsics(value: unknown, stack: LocalStack, where = ''): unknown {
  if (Array.isArray(value)) return value.map((item, i) => resolveIntrinsics(item, stack, `${where}[${i}]`));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, argument] = entries[0]!;
    const resolve = (item: unknown) => resolveIntrinsics(item, stack, where);
    switch (key) {
      case 'Ref':
        return ref(String(argument), stack, where);
      case 'Fn::GetAtt':
        return getAtt(resolve(argument) as string[], stack, where);
      case 'Fn::Join': {
        const [separator, items] = resolve(argument) as [string, unknown[]];
        return items.map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = resolve(argument) as [number, unknown[]];
        return items[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = resolve(argument) as [string, string];
        return text.split(separator);
      }
      case 'Fn::Sub':
        return sub(argument, stack, where);
    }
    if (key.startsWith('Fn::')) throw new ServiceConfigError(`${where}: ${key} cannot be resolved locally`);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, stack, `${where}.${key}`)]));
}

function ref(name: string, stack: LocalStack, where: string): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.accountId,
    'AWS::StackName': stack.stackName,
    'AWS::Partition': partitionOf(stack.region).id,
    'AWS::URLSuffix': partitionOf(stack.region).dnsSuffix,
  };
  if (name in pseudo) return pseudo[name]!;
  if (name in stack.emulated) return stack.emulated[name]!;
  const resource = stack.resources[name];
  if (resource?.Type === 'AWS::DynamoDB::Table') return tableName(name, resource.Properties);
  throw new ServiceConfigError(`${where}: !Ref ${name} names no resource the emulator can stand in for`);
}

function getAtt([name, attribute]: string[], stack: LocalStack, where: string): string {
  const resource = stack.resources[name ?? ''];
  if (resource?.Type === 'AWS::DynamoDB::Table') {
    const table = tableName(name!, resource.Properties);
    const arn = `arn:${partitionOf(stack.region).id}:dynamodb:${stack.region}:${stack.accountId}:table/${table}`;
    if (attribute === 'Arn') return arn;
    if (attribute === 'StreamArn') return `${arn}/stream/local`;
  }
  throw new ServiceConfigError(`${where}: !GetAtt ${name}.${attribute} cannot be resolved locally`);
}

function sub(argument: unknown, stack: LocalStack, where: string): string {
  const [template, variables] = Array.isArray(argument)
    ? [String(argument[0]), resolveIntrinsics(argument[1], stack, where) as Record<string, unknown>]
    : [String(argument), {}];
  return template.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (name in variables) return String(variables[name]);
    const dot = name.indexOf('.');
    return dot < 0 ? ref(name, stack, where) : getAtt([name.slice(0, dot), name.slice(dot + 1)], stack, where);
  });
}

/** CloudFormation generates a name when TableName is absent; locally the logical id stands in. */
export function tableName(logicalId: string, properties: Record<string, unknown> | undefined): string {
  const name = properties?.TableName;
  return typeof name === 'string' ? name : logicalId;
}
