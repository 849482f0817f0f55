import type { BoundColumn } from '../../../packages/core/src/model/bound-model.js';

/**
 * A column as the engine's phases use it (its data, and a reader and writer as an adapter's access
 * gives them), for tests of pure engine code: a not-null string column unless `over` says otherwise.
 */
export function columnModel<E = never>(over: Partial<BoundColumn<E>>): BoundColumn<E> {
  return {
    name: 'c',
    property: 'c',
    kind: 'string',
    isArray: false,
    nullable: false,
    primary: false,
    hasDefault: false,
    insertable: true,
    updatable: true,
    read: () => undefined,
    write: () => {},
    ...over,
  };
}
