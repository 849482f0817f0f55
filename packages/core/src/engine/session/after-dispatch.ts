/**
 * Calls `onSent` once a query started just now has reached the driver: the ORM's query path takes a
 * few promise steps before the driver writes it to the socket, and no event tells when it has.
 */
export function afterDispatch(onSent: (() => void) | undefined): void {
  // setImmediate: runs after every promise step queued now, i.e. once the query is on the wire.
  if (onSent) setImmediate(onSent);
}
