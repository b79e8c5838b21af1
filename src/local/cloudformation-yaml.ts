import { parse } from 'yaml';

/**
 * CloudFormation's short-form tags (!Ref, !GetAtt, !Join...) as the yaml parser's custom
 * tags, turned into their long form ({ Ref: ... }, { 'Fn::GetAtt': [...] }) like the
 * Serverless Framework does.
 */
const FUNCTIONS = [
  'Ref',
  'Condition',
  'GetAtt',
  'Join',
  'Sub',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'ImportValue',
  'FindInMap',
  'Base64',
  'GetAZs',
  'Cidr',
];

const customTags = FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  return (['scalar', 'seq', 'map'] as const).map((kind) => ({
    tag: `!${name}`,
    ...(kind === 'scalar' ? {} : { collection: kind }),
    resolve: (value: unknown) => {
      const plain = hasToJSON(value) ? value.toJSON() : value;
      // !GetAtt Resource.Attribute is short for [Resource, Attribute].
      return { [key]: name === 'GetAtt' && typeof plain === 'string' ? splitOnce(plain) : plain };
    },
  }));
});

/** Parses YAML that may hold CloudFormation short-form tags. */
export function parseCloudFormationYaml(text: string): unknown {
  return parse(text, { customTags: customTags as never, merge: true });
}

function hasToJSON(value: unknown): value is { toJSON(): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function splitOnce(value: string): string[] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}
