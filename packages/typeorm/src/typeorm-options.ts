import { BulkUsageError, UnsupportedFeatureError } from '@cohort/core';
import {
  adoptOption,
  type BulkOperation,
  checkOptions,
  type EntityModel,
  type OptionSpec,
  optionRule,
} from '@cohort/core/adapter';

/**
 * TypeORM's own `save()` option names, honoured by every bulk call where they mean what they mean
 * for save(); the others are refused at run time with an UnsupportedFeatureError naming them.
 */
export interface TypeormSaveOptionNames {
  /** As `save(…, { data })`: subscribers see it as `event.queryRunner.data` while the call runs (batch events too). */
  data?: any;
  /** As `save(…, { listeners })`: `false` runs no listener and no subscriber, batch methods included (= `hooks: false`). */
  listeners?: boolean;
  /** As `save(…, { chunk })`: entities per batch (= `batchSize`); see docs/guide.md for the hook order across batches. */
  chunk?: number;
  /** `true` (the default), or `false` inside a caller's transaction, where save() ignores it too; else refused. */
  transaction?: boolean;
  /** `true` only (the default): `save(…, { reload: false })` leaves generated values off the objects, cohort never does. */
  reload?: true;
}

/** TypeORM's own `upsert()` option names bulkUpsert honours (others, like `indexPredicate`, are refused). */
export interface TypeormUpsertOptionNames {
  /** As `upsert(…, { conflictPaths })` (= `target`): property paths, or `{ [property]: true }`. */
  conflictPaths?: readonly string[] | Readonly<Record<string, true>>;
  /** As `upsert(…, { skipUpdateIfNoValuesChanged })` (= `skipUnchanged`). */
  skipUpdateIfNoValuesChanged?: boolean;
  /** PostgreSQL's only kind, the default. */
  upsertType?: 'on-conflict-do-update';
}

const SAVE = "TypeORM's save()";
const UPSERT = "TypeORM's upsert()";
const UPSERT_ONLY: readonly BulkOperation[] = ['bulkUpsert'];

/** The TypeORM option names the adapter accepts beside cohort's, and what it refuses of them. */
const TYPEORM_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  data: { rule: optionRule.any, origin: SAVE },
  listeners: { rule: optionRule.boolean, origin: SAVE },
  chunk: {
    rule: (v) =>
      optionRule.positiveInteger(v) &&
      "a positive integer (save()'s chunk: 0 means one chunk; cohort always writes in batches: leave chunk out)",
    origin: SAVE,
  },
  transaction: { rule: optionRule.boolean, origin: SAVE },
  reload: {
    rule: optionRule.boolean,
    origin: SAVE,
    refuse: (v) =>
      v === false
        ? 'save(…, { reload: false }) leaves generated keys, defaults and versions off the objects, and cohort always puts them back; leave reload out'
        : undefined,
  },
  conflictPaths: {
    rule: (v) =>
      optionRule.strings(v) === undefined || (v !== null && typeof v === 'object' && !Array.isArray(v))
        ? undefined
        : 'an array of property paths or an object { [property]: true }',
    names: (v) => (Array.isArray(v) ? v : Object.keys(v as object)),
    operations: UPSERT_ONLY,
    origin: UPSERT,
  },
  skipUpdateIfNoValuesChanged: { rule: optionRule.boolean, operations: UPSERT_ONLY, origin: UPSERT },
  upsertType: {
    rule: optionRule.any,
    operations: UPSERT_ONLY,
    origin: UPSERT,
    refuse: (v) =>
      v === 'on-conflict-do-update'
        ? undefined
        : `PostgreSQL upserts with INSERT … ON CONFLICT … DO UPDATE ('on-conflict-do-update'); ${JSON.stringify(v)} is for other databases`,
  },
  indexPredicate: {
    rule: optionRule.any,
    operations: UPSERT_ONLY,
    origin: UPSERT,
    refuse: () => 'a conflict target on a partial unique index (ON CONFLICT (…) WHERE …) is not supported',
  },
  returning: {
    rule: optionRule.any,
    operations: UPSERT_ONLY,
    origin: UPSERT,
    refuse: () =>
      'the values read back are those save() reads back (keys, defaults, versions); a RETURNING list of your own is not supported',
  },
  overwriteCondition: {
    rule: optionRule.any,
    operations: UPSERT_ONLY,
    origin: "TypeORM's orUpdate()",
    refuse: () =>
      "TypeORM's upsert() does not apply it either; for a condition on the stored row use `where` (SQL over t and excluded)",
  },
};

/** A call's options in cohort's terms, and the `data` for the query runner. */
export interface TypeormCallOptions<O> {
  readonly options: O;
  readonly data: unknown;
}

/**
 * Checks a call's options (cohort's and TypeORM's own names, values, column names) and translates
 * the TypeORM names: `listeners` → `hooks`, `chunk` → `batchSize`, `conflictPaths` → `target`,
 * `skipUpdateIfNoValuesChanged` → `skipUnchanged`; `data` is returned for the query runner.
 */
export function typeormCallOptions<O extends object>(
  operation: BulkOperation,
  given: unknown,
  model: EntityModel,
  inCallerTransaction: boolean,
): TypeormCallOptions<O> {
  checkOptions(operation, given, { extra: TYPEORM_OPTIONS, model });
  const {
    data,
    listeners,
    chunk,
    transaction,
    reload: _reload,
    conflictPaths,
    skipUpdateIfNoValuesChanged,
    upsertType: _upsertType,
    ...rest
  } = (given ?? {}) as Record<string, unknown>;
  let options: Record<string, unknown> = rest;
  if (transaction === false && !inCallerTransaction) {
    throw new UnsupportedFeatureError(
      'option transaction',
      `${operation} option "transaction" (${SAVE} option) is not supported with false outside a transaction: save() then ` +
        'runs each statement on its own, cohort always writes in one transaction (use atomic: false to commit batch by batch)',
      { option: 'transaction', entityName: model.name },
    );
  }
  if (listeners !== undefined) options = adoptOption(operation, options, 'listeners', listeners, 'hooks');
  if (chunk !== undefined) options = adoptOption(operation, options, 'chunk', chunk, 'batchSize');
  if (conflictPaths !== undefined) {
    const paths = Array.isArray(conflictPaths) ? conflictPaths : Object.keys(conflictPaths as object);
    options = adoptOption(operation, options, 'conflictPaths', conflictPaths, 'target', paths);
  }
  if (skipUpdateIfNoValuesChanged !== undefined) {
    if (skipUpdateIfNoValuesChanged && options.where !== undefined) {
      throw new BulkUsageError(
        `${operation}: "skipUpdateIfNoValuesChanged" and "where" cannot be combined (a row left as it was would be indistinguishable from one "where" skipped)`,
        { option: 'skipUpdateIfNoValuesChanged' },
      );
    }
    options = adoptOption(operation, options, 'skipUpdateIfNoValuesChanged', skipUpdateIfNoValuesChanged, 'skipUnchanged');
  }
  return { options: options as O, data };
}
