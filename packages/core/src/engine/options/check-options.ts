import { BulkUsageError, UnsupportedFeatureError } from '../../errors/usage-errors.js';
import type { EntityModel } from '../../model/entity-model.js';

/** The bulk operations, by the names callers know them. */
export type BulkOperation = 'bulkInsert' | 'bulkUpdate' | 'bulkUpsert' | 'bulkSave' | 'bulkRemove' | 'bulkSoftRemove';

/** Checks one option's value: returns what the value must be when it is wrong, else `undefined`. */
export type OptionRule = (value: unknown) => string | undefined;

/** One option an operation accepts. */
export interface OptionSpec {
  readonly rule: OptionRule;
  /** The column or property names the value holds, checked against the entity's model. */
  readonly names?: (value: unknown) => readonly string[];
  /** Operations that accept it (default: all of them). */
  readonly operations?: readonly BulkOperation[];
  /**
   * For an ORM's own option that cohort refuses (for some or all values): why, in a sentence, or
   * `undefined` when this value is honoured.
   */
  readonly refuse?: (value: unknown) => string | undefined;
  /** Whose option it is, for messages (`TypeORM's save()`). */
  readonly origin?: string;
}

/** The rules of cohort's own options; adapters use them for their extra keys too. */
export const optionRule = {
  any: (() => undefined) as OptionRule,
  boolean: ((v) => (typeof v === 'boolean' ? undefined : 'a boolean')) as OptionRule,
  string: ((v) => (typeof v === 'string' ? undefined : 'a string')) as OptionRule,
  function: ((v) => (typeof v === 'function' ? undefined : 'a function')) as OptionRule,
  positiveInteger: ((v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : 'a positive integer')) as OptionRule,
  strings: ((v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'an array of strings')) as OptionRule,
  stringRecord: ((v) =>
    isPlainObject(v) && Object.values(v).every((s) => typeof s === 'string')
      ? undefined
      : 'an object whose values are SQL strings') as OptionRule,
  oneOf:
    (...values: readonly unknown[]): OptionRule =>
    (v) =>
      values.includes(v) ? undefined : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`,
};

/** The names in a string array (an option naming columns or properties). */
export const listedNames = (value: unknown): readonly string[] => value as string[];
/** The keys of a record (an option keyed by column or property). */
export const keyNames = (value: unknown): readonly string[] => Object.keys(value as object);

const ALL: readonly BulkOperation[] = ['bulkInsert', 'bulkUpdate', 'bulkUpsert', 'bulkSave', 'bulkRemove'];
const INSERTS: readonly BulkOperation[] = ['bulkInsert', 'bulkSave'];
const UPDATES: readonly BulkOperation[] = ['bulkUpdate', 'bulkSave'];
const UPSERT: readonly BulkOperation[] = ['bulkUpsert'];

const DUPLICATES = optionRule.oneOf('error', 'keepFirst', 'keepLast');
const EXPRESSIONS: OptionSpec = { rule: optionRule.stringRecord, names: keyNames, operations: ['bulkUpsert', ...UPDATES] };

/** cohort's own options (bulk-options.ts), with the operations that accept each. */
const COHORT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  batchSize: { rule: optionRule.positiveInteger },
  hooks: { rule: optionRule.boolean },
  validate: { rule: optionRule.boolean },
  onInvalid: { rule: optionRule.oneOf('error', 'skip') },
  atomic: { rule: optionRule.boolean },
  onProgress: { rule: optionRule.function },
  strategy: { rule: optionRule.oneOf('auto', 'unnest', 'copy') },
  pipeline: { rule: optionRule.boolean },
  onConflict: { rule: conflictRule, operations: INSERTS },
  duplicates: { rule: DUPLICATES, operations: ['bulkInsert', 'bulkUpsert', 'bulkSave'] },
  target: { rule: optionRule.strings, names: listedNames, operations: UPSERT },
  update: { rule: optionRule.strings, names: listedNames, operations: UPSERT },
  where: { rule: optionRule.string, operations: UPSERT },
  expressions: EXPRESSIONS,
  skipUnchanged: { rule: optionRule.boolean, operations: UPSERT },
  checkVersion: { rule: optionRule.boolean, operations: [...UPDATES, 'bulkRemove'] },
};

/** The keys of an `onConflict` object. */
const CONFLICT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  target: { rule: optionRule.strings, names: listedNames },
  action: { rule: optionRule.oneOf('ignore', 'update') },
  update: { rule: optionRule.strings, names: listedNames },
  where: { rule: optionRule.string },
  expressions: { rule: optionRule.stringRecord, names: keyNames },
  skipUnchanged: { rule: optionRule.boolean },
};

function conflictRule(value: unknown): string | undefined {
  return value === 'error' || value === 'ignore' || isPlainObject(value)
    ? undefined
    : `'error', 'ignore' or an object { ${Object.keys(CONFLICT_OPTIONS).join(', ')} }`;
}

/** What {@link checkOptions} checks beside cohort's own options. */
export interface OptionCheck {
  /** The adapter's extra keys: its own options and the ORM's option names it honours or refuses. */
  readonly extra?: Readonly<Record<string, OptionSpec>>;
  /** When given, column and property names in options must exist in it. */
  readonly model?: Pick<EntityModel, 'name' | 'columns'>;
}

/**
 * Checks an options object once per call, before anything is sent: every key must be an option of
 * `operation` (cohort's own or one of `check.extra`), every value must be of its kind, and names of
 * columns or properties must exist. Throws {@link BulkUsageError} with `option` set, or
 * {@link UnsupportedFeatureError} for an ORM option cohort refuses. `undefined` values count as
 * absent, as they do for the ORMs' own options.
 *
 * @example
 * ```ts
 * checkOptions('bulkInsert', { batchsize: 500 }); // BulkUsageError: … no option "batchsize" (did you mean "batchSize"?)
 * ```
 */
export function checkOptions(operation: BulkOperation, options: unknown, check: OptionCheck = {}): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    throw new BulkUsageError(`${operation}'s options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    const value = options[key];
    const spec = specFor(operation, key, check.extra);
    if (value === undefined) continue;
    checkValue(operation, key, value, spec, check.model);
    if (key === 'onConflict' && isPlainObject(value)) checkConflictObject(operation, value, check.model);
  }
  if (options.skipUnchanged === true && options.where !== undefined) {
    throw new BulkUsageError(
      `${operation}: "skipUnchanged" and "where" cannot be combined (a row left as it was would be indistinguishable from one "where" skipped)`,
      { option: 'skipUnchanged' },
    );
  }
}

/** The operation whose options `operation` takes: a soft remove takes a remove's (one adapter has it). */
function optionsOf(operation: BulkOperation): BulkOperation {
  return operation === 'bulkSoftRemove' ? 'bulkRemove' : operation;
}

function specFor(operation: BulkOperation, key: string, extra: OptionCheck['extra']): OptionSpec {
  const spec = own(extra, key) ?? own(COHORT_OPTIONS, key);
  if (spec && (spec.operations ?? ALL).includes(optionsOf(operation))) return spec;
  const known = Object.keys({ ...COHORT_OPTIONS, ...extra }).filter((k) => acceptedBy(operation, k, extra));
  const elsewhere = spec ? ` (an option of ${(spec.operations ?? ALL).join(', ')})` : '';
  const near = elsewhere ? undefined : nearest(key, known);
  throw new BulkUsageError(`${operation} has no option "${key}"${elsewhere}${near ? ` (did you mean "${near}"?)` : ''}`, {
    option: key,
  });
}

function acceptedBy(operation: BulkOperation, key: string, extra: OptionCheck['extra']): boolean {
  const spec = own(extra, key) ?? own(COHORT_OPTIONS, key);
  return spec !== undefined && (spec.operations ?? ALL).includes(optionsOf(operation));
}

function checkValue(operation: BulkOperation, key: string, value: unknown, spec: OptionSpec, model: OptionCheck['model']): void {
  const wanted = spec.rule(value);
  if (wanted !== undefined) {
    throw new BulkUsageError(`${operation} option "${key}" must be ${wanted}, got ${describe(value)}`, { option: key });
  }
  const refused = spec.refuse?.(value);
  if (refused !== undefined) {
    const origin = spec.origin ? ` (${spec.origin} option)` : '';
    throw new UnsupportedFeatureError(`option ${key}`, `${operation} option "${key}"${origin} is not supported: ${refused}`, {
      option: key,
      entityName: model?.name,
    });
  }
  if (model && spec.names) {
    for (const name of spec.names(value)) {
      if (model.columns.some((c) => c.name === name || c.property === name)) continue;
      const near = nearest(
        name,
        model.columns.flatMap((c) => [c.property, c.name]),
      );
      throw new BulkUsageError(
        `${operation} option "${key}": ${model.name} has no column or property "${name}"${near ? ` (did you mean "${near}"?)` : ''}`,
        { option: key },
      );
    }
  }
}

function checkConflictObject(operation: BulkOperation, value: Record<string, unknown>, model: OptionCheck['model']): void {
  for (const key of Object.keys(value)) {
    const spec = own(CONFLICT_OPTIONS, key);
    const option = `onConflict.${key}`;
    if (!spec) {
      const near = nearest(key, Object.keys(CONFLICT_OPTIONS));
      throw new BulkUsageError(`${operation} has no option "${option}"${near ? ` (did you mean "onConflict.${near}"?)` : ''}`, {
        option,
      });
    }
    if (value[key] !== undefined) checkValue(operation, option, value[key], spec, model);
  }
  if (value.skipUnchanged === true && (value.where !== undefined || value.action === 'ignore')) {
    throw new BulkUsageError(
      `${operation}: "onConflict.skipUnchanged" needs action 'update' and no "where" (a row left as it was would be indistinguishable from one skipped)`,
      { option: 'onConflict.skipUnchanged' },
    );
  }
}

/**
 * Puts an ORM's own option under cohort's name for it (`listeners: false` → `hooks: false`) and
 * refuses the call when cohort's option is given too with another value. `options` must not hold
 * `ormKey` any more; returns them with `cohortKey` set.
 */
export function adoptOption<O extends object>(
  operation: BulkOperation,
  options: O,
  ormKey: string,
  ormValue: unknown,
  cohortKey: string,
  cohortValue: unknown = ormValue,
): O {
  const given = (options as Record<string, unknown>)[cohortKey];
  if (given !== undefined && !sameValue(given, cohortValue)) {
    throw new BulkUsageError(
      `${operation}: "${ormKey}" (${describe(ormValue)}) and "${cohortKey}" (${describe(given)}) disagree; give one of them`,
      { option: ormKey },
    );
  }
  return { ...options, [cohortKey]: cohortValue };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
  }
  return Object.is(a, b);
}

function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 60)})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${(JSON.stringify(value) ?? '').slice(0, 60)})`;
  return String(value);
}

/** The known name closest to a misspelt one, when it is close enough to be the one meant. */
function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = name.length <= 3 ? 1 : name.length <= 8 ? 2 : 3;
  for (const candidate of new Set(known)) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = distance(lower, candidate.toLowerCase());
    if (d <= bestDistance) {
      best = candidate;
      bestDistance = d - 1;
    }
  }
  return best;
}

/** Edit distance with adjacent transpositions (optimal string alignment); only on the error path. */
function distance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1] as number[];
      let d = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
