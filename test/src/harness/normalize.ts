import { FIXTURE_NAMES } from '../fixtures/fixture-names.js';

/**
 * A value in the form rows and object states are compared in: Dates → ISO strings, Buffers →
 * `\x…` hex, bigints → strings, plain objects with sorted keys, fixture entities → their id
 * (a relation compares by key, never by identity). `undefined` properties are dropped.
 */
export function normalizeValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (typeof value === 'object') {
    if (isFixtureEntity(value)) return normalizeValue((value as { id?: unknown }).id);
    return normalizeRecord(value as Record<string, unknown>);
  }
  return value;
}

/** The object's own enumerable data, normalized as by `normalizeValue`, keys sorted. */
export function normalizeRecord(record: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const value = (record as Record<string, unknown>)[key];
    if (value === undefined || typeof value === 'function') continue;
    out[key] = normalizeValue(value);
  }
  return out;
}

function isFixtureEntity(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto !== Object.prototype && proto !== null && (FIXTURE_NAMES as readonly string[]).includes(value.constructor.name);
}
