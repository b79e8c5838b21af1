/** A handler that cannot be loaded; the message says what was not found. */
export class HandlerLoadError extends Error {}
/** `path/to/module.a.b` split as Lambda splits it (module names cannot contain dots). */
export function parseHandler(handler: string): { moduleRoot: string; moduleName: string; propertyPath: string };
/** The files Lambda tries for a handler, in order, with how each is loaded. */
export function moduleCandidates(appRoot: string, handler: string): [file: string, how: 'require' | 'import'][];
/** The handler function, loaded as Lambda loads it. */
export function loadHandler(appRoot: string, handler: string): Promise<(...args: unknown[]) => unknown>;
