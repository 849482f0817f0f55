import { UnsupportedFeatureError } from '@cohort/core';
import type { EntityMetadata } from 'typeorm';

/**
 * Refuses to insert, update or upsert entities of a nested-set, materialized-path or closure-table
 * tree (`@Tree(...)`), rows of the call or related entities it writes with them: save() keeps state
 * of its own for such a tree when it inserts an entity or moves it to another parent — the closure
 * table's rows, the `mpath` column, the nested set's bounds — which cohort's statements would leave
 * out or stale with no error. An adjacency-list tree is a plain self-reference and written as one.
 */
export function refuseTreeTable(metadata: EntityMetadata, what: string): void {
  const kind = metadata.treeType;
  if (kind !== 'nested-set' && kind !== 'materialized-path' && kind !== 'closure-table') return;
  throw new UnsupportedFeatureError(
    'tree table',
    `${what} ${metadata.name}: a ${kind} tree keeps state of its own (${STATE[kind]}) that save() maintains when it inserts an entity or moves it; cohort does not write it — use save() for these entities, or an adjacency-list tree`,
    { entityName: metadata.name },
  );
}

const STATE = {
  'nested-set': 'the nested set bounds',
  'materialized-path': 'the materialized path column',
  'closure-table': "the closure table's rows",
} as const;
