import type { ColumnModel, EntityModel } from '@cohort/core/adapter';
import { type EntityMetadata, type Platform, ReferenceKind } from '@mikro-orm/core';
import { columnModel, isIdentity, isReadBackComputed, isWritten } from './mikro-orm-column-model.js';
import { type ColumnReader, columnReader } from './mikro-orm-column-reader.js';

// Metadata of an entity type the reader does not know.
type AnyEntity = any;

/** What the model needs from the EntityManager it was read for (all per ORM instance, not per call). */
export interface ModelEnvironment {
  readonly platform: Platform;
  /** The schema the table lives in (`meta.schema`, else the call's, else the config's). */
  readonly schema: string | undefined;
}

/**
 * An entity as the engine sees it, worked out once per entity and schema: its table (pure data) and
 * each column's reader. Writing values back and the rest of a row's handling belong to the call
 * (MikroOrmWriteContext), which builds the call's access from this.
 */
export interface MikroOrmEntity {
  readonly model: EntityModel;
  readonly readers: ReadonlyMap<ColumnModel, ColumnReader>;
  /** Some property has an `onCreate`: an upsert asks which columns a row's values are for the insert only. */
  readonly hasOnCreate: boolean;
}

const cache = new WeakMap<EntityMetadata<AnyEntity>, Map<string, MikroOrmEntity>>();

/**
 * Reads (once per entity and schema) MikroORM's metadata of an entity into the engine's model. The
 * model reads every value from `comparator.prepareEntity(entity)` — the snapshot flush itself sends
 * as the INSERT payload — so custom types, embeddables, relations and the STI discriminator come out
 * exactly as flush would write them.
 */
export function readMikroOrmEntity(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): MikroOrmEntity {
  const key = env.schema ?? '';
  let bySchema = cache.get(meta);
  if (!bySchema) {
    bySchema = new Map();
    cache.set(meta, bySchema);
  }
  let entity = bySchema.get(key);
  if (!entity) {
    entity = buildEntity(meta, env);
    bySchema.set(key, entity);
  }
  return entity;
}

/** The engine's model of an entity (see {@link readMikroOrmEntity}). */
export function readMikroOrmModel(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): EntityModel {
  return readMikroOrmEntity(meta, env).model;
}

/** The columns of a table with their readers, as {@link readColumns} finds them. */
interface TableColumns {
  readonly columns: ColumnModel[];
  readonly readers: Map<ColumnModel, ColumnReader>;
  /** Each written property's columns. */
  readonly byProperty: Map<string, ColumnModel[]>;
  /** The names of the table's columns. */
  readonly seen: Set<string>;
  /** Stored generated columns. */
  readonly computed: ColumnModel[];
}

function buildEntity(meta: EntityMetadata<AnyEntity>, env: ModelEnvironment): MikroOrmEntity {
  // Single-table inheritance: the root's table and the union of every class's columns, so a batch
  // may mix subclasses (a row leaves the columns of other subclasses to NULL, as flush does).
  const root = meta.root;
  const { columns, readers, byProperty, seen, computed } = readColumns(root, env.platform);
  const returningProps = root.props.filter(
    (p) =>
      isWritten(p) && (p.primary || p.version || p.autoincrement || p.defaultRaw !== undefined || p.returning || isIdentity(p)),
  );
  const returningOnInsert = [
    ...returningProps.flatMap((p) => byProperty.get(p.name) ?? []).filter((c) => seen.has(c.name)),
    ...computed,
  ];
  // Without generated columns the engine's default (the version) is what an UPDATE returns.
  const returningOnUpdate = computed.length > 0 ? [...columns.filter((c) => c.role === 'version'), ...computed] : undefined;
  const model: EntityModel = {
    name: meta.className,
    schema: env.schema,
    table: root.tableName,
    columns,
    returningOnInsert,
    returningOnUpdate,
    uniques: uniquesOf(root, byProperty),
    // An owning to-one to the entity's own table (a tree's parent): see EntityModel.refersToItself.
    refersToItself: root.props.some(
      (p) =>
        (p.kind === ReferenceKind.MANY_TO_ONE || (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)) &&
        p.targetMeta?.root.tableName === root.tableName,
    ),
    upsertReadsBack: true,
  };
  return { model, readers, hasOnCreate: root.props.some((p) => p.onCreate) };
}

/** The table's columns: every written property's, then the stored generated ones. */
function readColumns(root: EntityMetadata<AnyEntity>, platform: Platform): TableColumns {
  const table: TableColumns = { columns: [], readers: new Map(), byProperty: new Map(), seen: new Set(), computed: [] };
  const { columns, readers, seen } = table;
  for (const prop of root.props) {
    if (!isWritten(prop)) continue;
    const own = prop.fieldNames.map((field, i) => {
      const column = columnModel(root, prop, field, i);
      readers.set(column, columnReader(root, prop, column, i, platform));
      return column;
    });
    for (const column of own) {
      // STI subclasses may map one column from several properties; the first wins, as in the DDL.
      if (seen.has(column.name)) continue;
      seen.add(column.name);
      columns.push(column);
    }
    table.byProperty.set(prop.name, own);
  }
  // Stored generated columns: never written, read back after an insert and an update, as flush does.
  for (const prop of root.props) {
    if (!isReadBackComputed(prop)) continue;
    for (const [i, field] of prop.fieldNames.entries()) {
      if (seen.has(field)) continue;
      seen.add(field);
      const own = columnModel(root, prop, field, i);
      const column = { ...own, insertable: false, updatable: false, upsertable: false, hasDefault: true };
      readers.set(column, columnReader(root, prop, own, i, platform));
      columns.push(column);
      table.computed.push(column);
    }
  }
  return table;
}

/** The table's unique constraints (by columns): the class's unique sets, then its unique properties. */
function uniquesOf(root: EntityMetadata<AnyEntity>, byProperty: ReadonlyMap<string, ColumnModel[]>): EntityModel['uniques'] {
  return [
    ...root.uniques.map((u) => ({
      name: typeof u.name === 'string' ? u.name : undefined,
      columns: propertyNames(u.properties).flatMap((name) => byProperty.get(name)?.map((c) => c.name) ?? []),
    })),
    ...root.props
      .filter((p) => p.unique && isWritten(p))
      .map((p) => ({ name: typeof p.unique === 'string' ? p.unique : undefined, columns: p.fieldNames })),
  ].filter((u) => u.columns.length > 0);
}

function propertyNames(properties: unknown): string[] {
  const list = Array.isArray(properties) ? properties : properties === undefined ? [] : [properties];
  return list.filter((p): p is string => typeof p === 'string');
}
