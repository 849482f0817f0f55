import type { ColumnKind, ColumnModel } from '../model/entity-model.js';
import { inIsoYears, isoUtcMs } from '../sql/pg-text.js';
import { UnreadableValue } from './unreadable-value.js';

/** Why one value is refused. */
export interface RuleViolation {
  constraint: string;
  message: string;
}

const INT_RANGE: Partial<Record<ColumnKind, [bigint, bigint]>> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};
const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const TIME_TEXT = /^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)?$/i;

/** Whether a row must provide this column: not null, and nothing else fills it. */
export function isRequired(column: ColumnModel): boolean {
  return !column.nullable && !column.hasDefault && column.generated === undefined && column.role === undefined;
}

/**
 * Checks one value against the column, as PostgreSQL would when storing it, so that a bad row is
 * refused with its name before anything is sent. `undefined` means "left to the database".
 */
export function checkColumnValue(column: ColumnModel, value: unknown): RuleViolation | undefined {
  if (value instanceof UnreadableValue) return { constraint: 'type', message: value.message };
  if (value === undefined) {
    return isRequired(column) ? { constraint: 'required', message: 'is required (NOT NULL, no default)' } : undefined;
  }
  if (value === null) {
    if (column.nullable || column.generated !== undefined) return undefined;
    return { constraint: 'required', message: 'must not be null' };
  }
  if (column.isArray) {
    if (!Array.isArray(value)) return { constraint: 'type', message: `expected an array, got ${describe(value)}` };
    for (const [i, element] of value.entries()) {
      if (element === null || element === undefined) continue;
      const problem = checkScalar(column, element);
      if (problem) return { constraint: problem.constraint, message: `element ${i} ${problem.message}` };
    }
    return undefined;
  }
  return checkScalar(column, value);
}

function checkScalar(column: ColumnModel, value: unknown): RuleViolation | undefined {
  if (column.enumValues && !column.enumValues.includes(value as string | number)) {
    return {
      constraint: 'enum',
      message: `must be one of ${column.enumValues.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(value)}`,
    };
  }
  switch (column.kind) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return checkInteger(column.kind, value);
    case 'numeric':
      return checkNumeric(column, value);
    case 'real':
    case 'double':
      if (typeof value === 'number' ? Number.isFinite(value) : typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) {
        return undefined;
      }
      return { constraint: 'type', message: `expected a finite number, got ${describe(value)}` };
    case 'boolean':
      // Some ORMs hand booleans to the driver as 1/0.
      return typeof value === 'boolean' || value === 1 || value === 0
        ? undefined
        : { constraint: 'type', message: `expected a boolean, got ${describe(value)}` };
    case 'string':
      return checkString(column, value);
    case 'uuid':
      return typeof value === 'string' && UUID_TEXT.test(value)
        ? undefined
        : { constraint: 'type', message: `expected a UUID, got ${describe(value)}` };
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return checkDate(value, column.isoYearsOnly);
    case 'time':
      return typeof value === 'string' && TIME_TEXT.test(value.trim())
        ? undefined
        : value instanceof Date
          ? checkDate(value)
          : { constraint: 'type', message: `expected a time of day, got ${describe(value)}` };
    case 'json':
      return checkJson(value);
    case 'bytea':
      return Buffer.isBuffer(value) || value instanceof Uint8Array
        ? undefined
        : { constraint: 'type', message: `expected a Buffer, got ${describe(value)}` };
    case 'other':
      return typeof value === 'string' ? checkNul(value) : undefined;
  }
}

const NUMBER_RANGE: Partial<Record<ColumnKind, [number, number]>> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
  // Every safe integer fits a bigint; larger numbers are checked exactly below.
  bigint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function checkInteger(kind: ColumnKind, value: unknown): RuleViolation | undefined {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { constraint: 'type', message: `expected an integer, got ${describe(value)}` };
    const [low, high] = NUMBER_RANGE[kind] as [number, number];
    if (value >= low && value <= high) return undefined;
    big = BigInt(value);
  } else if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'string' && INTEGER_TEXT.test(value.trim())) {
    big = BigInt(value.trim());
  } else {
    return { constraint: 'type', message: `expected an integer, got ${describe(value)}` };
  }
  const [min, max] = INT_RANGE[kind] as [bigint, bigint];
  if (big < min || big > max) return { constraint: 'range', message: `${big} is out of range for ${kind} [${min}, ${max}]` };
  return undefined;
}

function checkNumeric(column: ColumnModel, value: unknown): RuleViolation | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { constraint: 'type', message: `expected a finite number, got ${describe(value)}` };
    text = String(value);
  } else if (typeof value === 'bigint') {
    text = String(value);
  } else if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) {
    text = value.trim();
  } else {
    return { constraint: 'type', message: `expected a number or numeric string, got ${describe(value)}` };
  }
  if (column.precision === undefined) return undefined;
  // PostgreSQL rounds extra fraction digits, but refuses more integer digits than precision - scale.
  const integerDigits = integerDigitCount(text);
  const allowed = column.precision - (column.scale ?? 0);
  if (integerDigits > allowed) {
    return {
      constraint: 'precision',
      message: `${text} has ${integerDigits} integer digit(s); numeric(${column.precision},${column.scale ?? 0}) allows ${allowed}`,
    };
  }
  return undefined;
}

function integerDigitCount(text: string): number {
  const n = Number(text);
  if (Math.abs(n) < 1) return 0;
  if (/e/i.test(text)) return Math.floor(Math.log10(Math.abs(n))) + 1;
  const whole = text.replace(/^[+-]/, '').split('.')[0] as string;
  return whole.replace(/^0+/, '').length;
}

function checkString(column: ColumnModel, value: unknown): RuleViolation | undefined {
  if (typeof value !== 'string') return { constraint: 'type', message: `expected a string, got ${describe(value)}` };
  const nul = checkNul(value);
  if (nul) return nul;
  // A string has at most as many characters as UTF-16 units: only a long one needs counting.
  if (column.length !== undefined && value.length > column.length) {
    // PostgreSQL counts characters (code points), not UTF-16 units.
    let count = 0;
    for (const _ of value) count++;
    if (count > column.length) {
      return { constraint: 'maxLength', message: `is ${count} characters long; at most ${column.length} allowed` };
    }
  }
  return undefined;
}

function checkDate(value: unknown, isoYearsOnly?: boolean): RuleViolation | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return { constraint: 'type', message: 'is an invalid Date' };
    if (isoYearsOnly && !inIsoYears(value)) {
      return {
        constraint: 'range',
        message: `${value.toISOString()} is outside years 1–9999, which the ORM cannot send (PostgreSQL refuses its text for it)`,
      };
    }
    return undefined;
  }
  // toISOString's own form (what some ORMs hand the driver) is checked from its digits, cheaply.
  if (typeof value === 'string' && isoUtcMs(value) !== undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Date.parse(value))) return undefined;
  if (typeof value === 'string' && /^(infinity|-infinity)$/i.test(value)) return undefined;
  return { constraint: 'type', message: `expected a Date, got ${describe(value)}` };
}

function checkJson(value: unknown): RuleViolation | undefined {
  let text: string | undefined;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch (error) {
    return { constraint: 'type', message: `cannot be serialized to JSON: ${(error as Error).message}` };
  }
  if (text === undefined) {
    // JSON.stringify gives nothing for a function or a symbol: there is no JSON to store.
    return { constraint: 'type', message: `cannot be serialized to JSON: got ${describe(value)}` };
  }
  // jsonb cannot hold U+0000, either raw or as the \u0000 escape.
  if (text.includes('\u0000') || text.includes('\\u0000')) {
    return { constraint: 'nulByte', message: 'contains a NUL character (U+0000), which PostgreSQL cannot store' };
  }
  // JSON.stringify writes an unpaired surrogate as a \udXXX escape, which jsonb refuses.
  if (!isWellFormed(text) || (text.includes('\\u') && LONE_SURROGATE_ESCAPE.test(text))) return UNPAIRED_SURROGATE;
  return undefined;
}

// A \uD800–\uDFFF escape that is not itself escaped (an even number of backslashes before it). Paired
// surrogates are never escaped by JSON.stringify, so such an escape there is a lone one.
const LONE_SURROGATE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

// String.prototype.isWellFormed (Node ≥ 20; ES2024, newer than the compiler's lib).
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

const UNPAIRED_SURROGATE: RuleViolation = {
  constraint: 'unpairedSurrogate',
  message: 'contains an unpaired UTF-16 surrogate, which PostgreSQL cannot store (text would get U+FFFD instead)',
};

function checkNul(value: string): RuleViolation | undefined {
  if (value.includes('\u0000')) {
    return { constraint: 'nulByte', message: 'contains a NUL character (U+0000), which PostgreSQL cannot store in text' };
  }
  // The driver encodes an unpaired surrogate as U+FFFD: the row would silently hold another string.
  return isWellFormed(value) ? undefined : UNPAIRED_SURROGATE;
}

function describe(value: unknown): string {
  if (value instanceof Date) return 'a Date';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `${typeof value} ${String(value)}`;
}
