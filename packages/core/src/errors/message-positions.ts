/**
 * The position text cohort itself writes into an error's message (`batch 2`, `row 5`, `rows 1, 4`),
 * kept per error so that a call of its own's error, told again in its running call's terms
 * (inOuterCall, located), has that text rewritten and nothing else: a hook's or PostgreSQL's message
 * inside it may say `batch 1` too. Each is kept by its distance from the message's end, which the
 * prefixes added later (`located`, `BulkUsageError`'s `cohort: `) leave as it is.
 */
export type PositionKind = 'batch' | 'row' | 'rows';

interface Written {
  fromEnd: number;
  text: string;
}

const written = new WeakMap<Error, Map<PositionKind, Written>>();

/** Records that the message of `error` holds `text`, followed by `after` up to its end. */
export function notePosition(error: Error, kind: PositionKind, text: string, after: string): void {
  let kinds = written.get(error);
  if (!kinds) {
    kinds = new Map();
    written.set(error, kinds);
  }
  kinds.set(kind, { fromEnd: text.length + after.length, text });
}

/**
 * Replaces the `kind` text cohort wrote into the message with `text`. False, the message left as it
 * is, when none was recorded or the message no longer holds it there.
 */
export function rewritePosition(error: Error, kind: PositionKind, text: string): boolean {
  const kinds = written.get(error);
  const entry = kinds?.get(kind);
  if (!kinds || !entry) return false;
  const message = error.message;
  const start = message.length - entry.fromEnd;
  if (start < 0 || message.slice(start, start + entry.text.length) !== entry.text) return false;
  error.message = message.slice(0, start) + text + message.slice(start + entry.text.length);
  const grown = text.length - entry.text.length;
  // The texts before this one are that much farther from the end now.
  for (const other of kinds.values()) if (other.fromEnd > entry.fromEnd) other.fromEnd += grown;
  entry.fromEnd += grown;
  entry.text = text;
  return true;
}
