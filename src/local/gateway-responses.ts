/**
 * The frames API Gateway itself sends a caller, byte for byte (note the space after the first
 * colon only): clients in the wild match on these strings.
 */
export function internalServerErrorFrame(connectionId: string, requestId: string): string {
  return gatewayFrame('Internal server error', connectionId, requestId);
}

/** Sent when no route matches and the API has no $default route. */
export function forbiddenFrame(connectionId: string, requestId: string): string {
  return gatewayFrame('Forbidden', connectionId, requestId);
}

function gatewayFrame(message: string, connectionId: string, requestId: string): string {
  const ids = `"connectionId":${JSON.stringify(connectionId)}, "requestId":${JSON.stringify(requestId)}`;
  return `{"message": ${JSON.stringify(message)}, ${ids}}`;
}
