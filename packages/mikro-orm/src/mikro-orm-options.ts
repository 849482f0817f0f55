import { BulkUsageError } from '@cohort/core';
import {
  adoptOption,
  type BulkOperation,
  checkOptions,
  type EntityModel,
  listedNames,
  type OptionSpec,
  optionRule,
  resolveConflict,
} from '@cohort/core/adapter';

/** MikroORM's own `em.upsertMany()` option names bulkUpsert honours; its other names are refused. */
export interface MikroOrmUpsertOptionNames {
  /** As `upsertMany(…, { onConflictFields })` (= `target`): properties of the conflict key. */
  onConflictFields?: readonly string[];
  /** `'merge'` (the default) only; `'ignore'` is refused (see docs/guide.md). */
  onConflictAction?: 'merge';
  /** As `upsertMany(…, { onConflictMergeFields })` (= `update`): the properties an update writes. */
  onConflictMergeFields?: readonly string[];
  /** As `upsertMany(…, { onConflictExcludeFields })`: the default `update` list without these properties. */
  onConflictExcludeFields?: readonly string[];
}

const UPSERT_MANY = "MikroORM's upsertMany()";
const NATIVE = "MikroORM's insertMany()/upsertMany()";
const UPSERT_ONLY: readonly BulkOperation[] = ['bulkUpsert'];

const refused = (reason: string, origin = NATIVE): OptionSpec => ({ rule: optionRule.any, origin, refuse: () => reason });
const NOT_FOR_BULK = 'it changes how MikroORM sends its own queries, and cohort sends its own';

/** The MikroORM adapter's own options and MikroORM's option names, with what is refused of them. */
const MIKRO_ORM_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  managed: { rule: optionRule.boolean, operations: ['bulkInsert', 'bulkUpdate', 'bulkSave', 'bulkUpsert'] },
  schema: { rule: optionRule.string },
  onConflictFields: { rule: optionRule.strings, names: listedNames, operations: UPSERT_ONLY, origin: UPSERT_MANY },
  onConflictAction: {
    rule: optionRule.oneOf('merge', 'ignore'),
    operations: UPSERT_ONLY,
    origin: UPSERT_MANY,
    refuse: (v) =>
      v === 'ignore'
        ? "upsertMany(…, { onConflictAction: 'ignore' }) loads the stored row onto each conflicting entity; " +
          "bulkInsert(…, { onConflict: 'ignore' }) leaves those entities as they are and lists them as skipped instead"
        : undefined,
  },
  onConflictMergeFields: { rule: optionRule.strings, names: listedNames, operations: UPSERT_ONLY, origin: UPSERT_MANY },
  onConflictExcludeFields: { rule: optionRule.strings, names: listedNames, operations: UPSERT_ONLY, origin: UPSERT_MANY },
  onConflictWhere: refused('a condition is SQL over t (the stored row) and excluded: use `where`', UPSERT_MANY),
  disableIdentityMap: refused('use `managed: false` to keep the written entities out of the identity map', UPSERT_MANY),
  ctx: refused('the call runs in the EntityManager’s transaction: call it with the EntityManager of em.transactional()'),
  upsert: refused('use bulkUpsert'),
  convertCustomTypes: refused('values are always converted as flush converts them'),
  processCollections: refused('collections are not written'),
  filters: refused('filters apply to queries, and bulk writes run none of their own'),
  unionWhere: refused(NOT_FOR_BULK),
  unionWhereStrategy: refused(NOT_FOR_BULK),
  loggerContext: refused(NOT_FOR_BULK),
  logging: refused(NOT_FOR_BULK),
  signal: refused(NOT_FOR_BULK),
  inflightQueryAbortStrategy: refused(NOT_FOR_BULK),
};

/**
 * Checks a call's options (cohort's, the adapter's and MikroORM's own names, values, property names)
 * and translates MikroORM's names: `onConflictFields` → `target`, `onConflictMergeFields` →
 * `update`, `onConflictExcludeFields` → `update` (the default list without them).
 */
export function mikroOrmCallOptions<O extends object>(operation: BulkOperation, given: unknown, model: EntityModel): O {
  checkOptions(operation, given, { extra: MIKRO_ORM_OPTIONS, model });
  const {
    onConflictFields,
    onConflictAction: _merge,
    onConflictMergeFields,
    onConflictExcludeFields,
    ...rest
  } = (given ?? {}) as Record<string, unknown>;
  let options: Record<string, unknown> = rest;
  if (onConflictFields !== undefined) options = adoptOption(operation, options, 'onConflictFields', onConflictFields, 'target');
  if (onConflictMergeFields !== undefined) {
    options = adoptOption(operation, options, 'onConflictMergeFields', onConflictMergeFields, 'update');
  }
  if (onConflictExcludeFields !== undefined) {
    if (options.update !== undefined) {
      throw new BulkUsageError(
        `${operation}: "onConflictExcludeFields" cannot be combined with "${onConflictMergeFields !== undefined ? 'onConflictMergeFields' : 'update'}"; give the properties to update, or the ones not to`,
        { option: 'onConflictExcludeFields' },
      );
    }
    const excluded = new Set(
      (onConflictExcludeFields as string[]).flatMap((name) =>
        model.columns.filter((c) => c.property === name || c.name === name).map((c) => c.name),
      ),
    );
    const conflict = resolveConflict(model, { target: options.target as string[] | undefined, action: 'update' });
    const update = conflict.kind === 'update' ? conflict.set.map((s) => s.column).filter((c) => !excluded.has(c)) : [];
    if (update.length === 0) {
      throw new BulkUsageError(`${operation}: "onConflictExcludeFields" leaves no column to update`, {
        option: 'onConflictExcludeFields',
      });
    }
    options = { ...options, update };
  }
  return options as O;
}
