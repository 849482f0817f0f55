import {
  type BulkOptions,
  type BulkResult,
  type InsertOptions,
  type RemoveOptions,
  type SaveOptions,
  type UpdateOptions,
  type UpsertOptions,
} from '@cohort/core';
import {
  type BulkJob,
  type BulkOperation,
  defineBulkOperations,
  type EntityAccess,
  inOuterCall,
  located,
  type TransactionRunner,
} from '@cohort/core/adapter';
import { type EntityManager, type EntityMetadata, type EntityName, ReferenceKind } from '@mikro-orm/core';
import { MikroOrmCascades, type RelatedWriter } from './mikro-orm-cascades.js';
import { mikroOrmEntityAccess } from './mikro-orm-entity-access.js';
import { type MikroOrmEntity, readMikroOrmEntity } from './mikro-orm-model-reader.js';
import { type MikroOrmUpsertOptionNames, mikroOrmCallOptions } from './mikro-orm-options.js';
import { refuseCascadingRemove } from './mikro-orm-removals.js';
import { refuseCascadingReplaced } from './mikro-orm-replaced-removals.js';
import type { ReplacedWriter } from './mikro-orm-replaced-targets.js';
import { mikroOrmTransaction, nestedCallOf, nestedOptions } from './mikro-orm-transaction.js';
import { MikroOrmWriteContext, type WriteKind } from './mikro-orm-write-context.js';
import { prepareEntity } from './prepare-entity.js';

const operations = defineBulkOperations<EntityManager>(jobFor);

/** Options of the MikroORM adapter's bulkInsert. */
export interface MikroOrmInsertOptions extends InsertOptions {
  /**
   * Register the inserted entities in the EntityManager's identity map, as flush does (default
   * `true`): a later `em.flush()` sends nothing for them, `em.findOne` returns the same instance and
   * a change becomes an UPDATE. `false` keeps them out of the unit of work (they still get their
   * keys and generated values), so a very large import does not hold every row and its snapshot in
   * memory until the EntityManager is cleared. An async iterable (a stream) defaults to `false`:
   * pass `true` to keep its entities managed (docs/guide.md, "Memory").
   */
  managed?: boolean;
  /** Schema to insert into when the entity does not declare one (default: the EntityManager's). */
  schema?: string;
}

/**
 * Inserts entities in batches of one statement each, with MikroORM's entity hooks and subscribers
 * run as `em.persist()` + `em.flush()` runs them, every row validated first, generated keys and
 * defaults put back on the objects, and the entities managed by the EntityManager afterwards.
 * Runs in the EntityManager's transaction when it is in one, else in its own.
 *
 * @example
 * ```ts
 * const result = await bulkInsert(em, User, users, { batchSize: 5000 });
 * console.log(result.inserted, users[0].id);
 * ```
 */
export const bulkInsert: <E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: MikroOrmInsertOptions,
) => Promise<BulkResult<E>> = operations.bulkInsert;

/** Options of the MikroORM adapter's bulkUpdate. */
export interface MikroOrmUpdateOptions extends UpdateOptions {
  /**
   * Register entities that were not managed (looked up by primary key) in the identity map once
   * updated (default `true`; for an async iterable `false`), as if they had been loaded. Managed
   * entities always get a fresh snapshot.
   */
  managed?: boolean;
  /** Schema of the table when the entity does not declare one (default: the EntityManager's). */
  schema?: string;
}

/** Options of the MikroORM adapter's bulkSave. */
export interface MikroOrmSaveOptions extends SaveOptions, MikroOrmUpdateOptions {}

/** Options of the MikroORM adapter's bulkUpsert: cohort's, and `em.upsertMany()`'s own names (docs/guide.md). */
export interface MikroOrmUpsertOptions extends UpsertOptions, MikroOrmUpsertOptionNames {
  /** Register the upserted entities in the identity map, as `em.upsert()` does (default `true`; for an async iterable `false`). */
  managed?: boolean;
  /** Schema of the table when the entity does not declare one (default: the EntityManager's). */
  schema?: string;
}

/**
 * Updates existing rows by primary key with one statement per batch, as flush updates managed
 * entities: each row diffed against its identity-map snapshot (unmanaged entities are looked up in
 * one query per batch), only changed columns written, `onUpdate` values applied, versions checked
 * and incremented, `beforeUpdate`/`afterUpdate` with flush's change set — and the snapshots
 * refreshed, so a later `em.flush()` sends nothing for them. New related entities the rows reach
 * (a to-one set to a new entity, new items of a one-to-many) are inserted first, as flush inserts them.
 *
 * @example
 * ```ts
 * for (const user of users) user.score += 1;
 * const { updated, unchanged } = await bulkUpdate(em, User, users);
 * ```
 */
export const bulkUpdate: <E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: MikroOrmUpdateOptions,
) => Promise<BulkResult<E>> = operations.bulkUpdate;

/**
 * What `em.persist(entities)` + `em.flush()` does for a mix of new and existing entities, per
 * batch: managed entities are diffed against their snapshots, unmanaged ones with a key looked up in
 * one query; then one INSERT for the new and one UPDATE for the changed, with MikroORM's create and
 * update events around them, and every written entity managed afterwards.
 *
 * @example
 * ```ts
 * const result = await bulkSave(em, User, [...newUsers, ...changedUsers]);
 * console.log(result.inserted, result.updated, result.unchanged);
 * ```
 */
export const bulkSave: <E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: MikroOrmSaveOptions,
) => Promise<BulkResult<E>> = operations.bulkSave;

/**
 * `INSERT … ON CONFLICT (target) DO UPDATE` in one statement per batch, that tells per row whether
 * it was inserted or updated (`result.outcomes[i]`). `beforeUpsert` runs for every entity first (as
 * for `em.upsert()`); afterwards inserted rows get `afterCreate`, updated rows `afterUpdate`, and both
 * `afterUpsert`; skipped rows get nothing. Written entities are managed afterwards.
 *
 * @example
 * ```ts
 * const r = await bulkUpsert(em, Product, products, { target: ['sku'] });
 * console.log(r.inserted, r.updated);
 * ```
 */
export const bulkUpsert: <E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: MikroOrmUpsertOptions,
) => Promise<BulkResult<E>> = operations.bulkUpsert;

/** Options of the MikroORM adapter's bulkRemove. */
export interface MikroOrmRemoveOptions extends RemoveOptions {
  /** Schema of the table when the entity does not declare one (default: the EntityManager's). */
  schema?: string;
}

/**
 * Removes entities by primary key with one DELETE per batch, as `em.remove()` + `em.flush()` removes
 * them: `beforeDelete`/`afterDelete` with flush's DELETE change set, version properties checked, and
 * the removed entities taken out of the identity map, so a later `em.flush()` sends nothing for
 * them. Rows already gone are skipped as `missing`. A relation with `Cascade.REMOVE`/`Cascade.ALL`
 * or `orphanRemoval` is refused (UnsupportedFeatureError) before anything is sent.
 *
 * @example
 * ```ts
 * const { removed } = await bulkRemove(em, User, users);
 * ```
 */
export const bulkRemove: <E extends object>(
  em: EntityManager,
  entityName: EntityName<E>,
  entities: Iterable<E> | AsyncIterable<E>,
  options?: MikroOrmRemoveOptions,
) => Promise<BulkResult<E>> = operations.bulkRemove;

/**
 * Rows per batch for an async iterable given without `batchSize` (arrays: the engine's 10,000).
 * A MikroORM entity in flight carries much more than its values (accessors, a helper, the hooks'
 * change set and snapshots). 1,000,000 streamed rows, batch by batch, three processes each
 * (`npm run bench`, stream cases): 10,000-row batches peaked at 349–368 MB RSS (8.6 s), 2,000 at
 * 243–258 MB (8.1 s), 1,000 at 238–244 MB (9.1 s; under 2,000 rows batches use unnest, not COPY).
 * 1,000 is the size that keeps such a stream under 256 MB every time.
 */
export const STREAM_BATCH_SIZE = 1_000;

/**
 * An async iterable's defaults: {@link STREAM_BATCH_SIZE} rows per batch, and entities left out of
 * the identity map (`managed: false`) — a stream's promise is bounded memory, and an identity map
 * holding every streamed entity and its snapshot grows with the stream (200,000 entities: 344 MB).
 * `managed: true` keeps them managed, as flush would.
 */
function streamDefaults<O extends { batchSize?: number; managed?: boolean }, E>(
  options: O,
  entities: Iterable<E> | AsyncIterable<E>,
  operation: BulkOperation,
): O {
  const streamed = typeof entities === 'object' && entities !== null && Symbol.asyncIterator in entities;
  if (!streamed) return options;
  const batchSize = options.batchSize ?? STREAM_BATCH_SIZE;
  // A remove registers nothing: it takes its entities out of the identity map either way.
  const managed = operation === 'bulkRemove' ? options.managed : (options.managed ?? false);
  return { ...options, batchSize, managed };
}

const KINDS: Readonly<Record<BulkOperation, WriteKind>> = {
  bulkInsert: 'insert',
  bulkUpdate: 'update',
  bulkSave: 'save',
  bulkUpsert: 'upsert',
  // A remove writes no values: the write context only checks and releases its rows.
  bulkRemove: 'update',
  // Not offered by this adapter (MikroORM has no soft remove).
  bulkSoftRemove: 'update',
};

/**
 * A remove's access: keys and the version read from flush's snapshot of the entity (with the
 * version the entity holds, which the snapshot leaves out and the DELETE expects); nothing written back.
 * Where every key is a plain scalar (no custom type, relation or embeddable) the snapshot holds the
 * entity's own values for them, so only those are taken, not the whole snapshot.
 */
function removeAccess(access: EntityAccess<object>, em: EntityManager, meta: EntityMetadata<object>): EntityAccess<object> {
  const version = meta.versionProperty as string | undefined;
  const keys = meta.getPrimaryProps();
  const plain = keys.every((p) => p.kind === ReferenceKind.SCALAR && !p.customType && !p.embedded);
  const names = [...keys.map((p) => p.name as string), ...(version ? [version] : [])];
  return {
    reader: access.reader,
    writer: access.writer,
    prepare: plain
      ? (row) => {
          const data: Record<string, unknown> = {};
          for (const name of names) data[name] = (row as Record<string, unknown>)[name];
          return data;
        }
      : (row) => {
          const data = prepareEntity(em, row);
          if (version) data[version] = (row as Record<string, unknown>)[version];
          return data;
        },
  };
}

function jobFor<E, O extends { batchSize?: number; hooks?: boolean; managed?: boolean; schema?: string }>(
  em: EntityManager,
  entityName: unknown,
  given: unknown,
  operation: BulkOperation,
  entities: Iterable<E> | AsyncIterable<E>,
): BulkJob<E, O> {
  // The EntityManager flush would use: the request context's fork when `em` is the global one.
  const manager = em.getContext();
  const meta = manager.getMetadata().get(entityName as EntityName<object>);
  // Read before the options are checked (the model needs it); a wrong one is refused by the check.
  const schemaOption = (given as { schema?: unknown } | null | undefined)?.schema;
  const schema =
    meta.root.schema && meta.root.schema !== '*'
      ? meta.root.schema
      : ((typeof schemaOption === 'string' ? schemaOption : undefined) ?? manager.schema ?? manager.config.getSchema());
  if (operation === 'bulkRemove') refuseCascadingRemove(meta);
  const entity = readMikroOrmEntity(meta, { platform: manager.getPlatform(), schema });
  const options = streamDefaults(mikroOrmCallOptions<O>(operation, given, entity.model), entities, operation);
  if (writesGraph(operation)) refuseCascadingReplaced(manager, entities);
  // A call of its own made by a running call: on its transaction, its changes in its undo log.
  const nested = nestedCallOf(given);
  const context = new MikroOrmWriteContext(manager, meta, schema, options.managed !== false, KINDS[operation], nested?.undo);
  const transaction = mikroOrmTransaction<object>(context, meta, entity.model, options.hooks !== false, nested);
  const access = writesGraph(operation)
    ? relatedWriters(
        manager,
        meta,
        schema,
        entity,
        context,
        options.hooks !== false,
        entities,
        replacedWriter(manager, context, options),
      )
    : mikroOrmEntityAccess(entity, meta, context);
  return {
    model: entity.model,
    // A remove reads keys and versions from flush's snapshot of the entity, and changes nothing of it.
    access: (operation === 'bulkRemove'
      ? removeAccess(access, manager, meta as EntityMetadata<object>)
      : access) as EntityAccess<E>,
    options,
    transaction: transaction as TransactionRunner<E>,
  };
}

/** Inserts, saves and updates write the new related entities flush would insert with their rows. */
function writesGraph(operation: BulkOperation): boolean {
  return operation === 'bulkInsert' || operation === 'bulkSave' || operation === 'bulkUpdate';
}

/**
 * The access of a call that inserts new related entities with its rows (mikro-orm-cascades.ts): per
 * related class, made when first needed, its model, a write context sharing the call's undo log
 * (a rolled-back call unregisters them all) and managed as the call's rows are.
 */
function relatedWriters(
  manager: EntityManager,
  meta: EntityMetadata<object>,
  schema: string | undefined,
  entity: MikroOrmEntity,
  context: MikroOrmWriteContext,
  hooks: boolean,
  input: unknown,
  writeReplaced: ReplacedWriter,
): EntityAccess<object> {
  if (!MikroOrmCascades.needed(meta)) return mikroOrmEntityAccess(entity, meta, context);
  const writers = new Map<EntityMetadata<object>, RelatedWriter>();
  const cascades: MikroOrmCascades = new MikroOrmCascades(
    manager.getMetadata(),
    meta,
    hooks,
    (related) => {
      let writer = writers.get(related);
      if (!writer) {
        const own = related.root.schema && related.root.schema !== '*' ? related.root.schema : schema;
        const model = readMikroOrmEntity(related, { platform: manager.getPlatform(), schema: own });
        const relatedContext = new MikroOrmWriteContext(manager, related, own, context.managed, 'insert', context.undo);
        const access = mikroOrmEntityAccess(model, related, relatedContext, { of: cascades, root: false });
        writer = { entity: model, access, context: relatedContext };
        writers.set(related, writer);
      }
      return writer;
    },
    input,
    writeReplaced,
    context.managed,
  );
  const access = mikroOrmEntityAccess(entity, meta, context, { of: cascades, root: true });
  writers.set(meta, { entity, access, context });
  writers.set(meta.root, { entity, access, context });
  return access;
}

/**
 * Flush's early step for a stored row's replaced inverse one-to-one targets (mikro-orm-replaced-targets.ts):
 * a call of their class of its own on the running call's transaction — bulkRemove with orphanRemoval,
 * else bulkUpdate of their cleared reference — with the call's hooks, strategy, schema, validation
 * and batch size (docs/guide.md, "Replaced inverse one-to-one targets"). It joins
 * that transaction alone (passed, not bound to the EntityManager: another call on it opens its own)
 * and records its changes to the objects in the running call's undo log (undone if it rolls back).
 * A failure is told at the input row whose new target replaced the failing one, in its batch.
 */
function replacedWriter(
  em: EntityManager,
  context: MikroOrmWriteContext,
  options: { hooks?: boolean; strategy?: BulkOptions['strategy']; schema?: string; validate?: boolean; batchSize?: number },
): ReplacedWriter {
  return async (meta, replaced, batch) => {
    const transaction = context.transaction;
    if (!transaction) throw new Error('cohort: a replaced target written outside its call (a bug)');
    const own = () =>
      nestedOptions(
        {
          hooks: options.hooks,
          strategy: options.strategy,
          schema: options.schema,
          validate: options.validate,
          batchSize: options.batchSize,
        },
        { transaction, undo: context.undo },
      );
    const name = meta.class as EntityName<object>;
    const at = (list: readonly object[], how: 'updated' | 'removed') => (error: unknown) => {
      inOuterCall(error, batch, (position) => {
        const old = list[position];
        return old === undefined ? undefined : replaced.holders.get(old)?.index;
      });
      const index = (error as { index?: unknown }).index;
      const holder = typeof index === 'number' ? replaced.holders.get(list[index] as object) : undefined;
      if (!holder) throw error;
      throw located(
        error,
        { entityName: holder.entityName, property: holder.property, target: meta.className },
        how,
        holder.index,
      );
    };
    const removed =
      replaced.remove.length > 0
        ? await operations.bulkRemove(em, name, replaced.remove, own()).catch(at(replaced.remove, 'removed'))
        : undefined;
    const updated =
      replaced.update.length > 0
        ? await operations.bulkUpdate(em, name, replaced.update, own()).catch(at(replaced.update, 'updated'))
        : undefined;
    return {
      entityName: meta.className,
      updated: updated?.updated ?? 0,
      removed: removed?.removed ?? 0,
      statements: (removed?.statements ?? 0) + (updated?.statements ?? 0),
    };
  };
}
