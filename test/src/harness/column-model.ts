import type { ColumnModel } from '@cohort/core';

/** A column of the engine's model for tests of pure engine code: a not-null string column unless `over` says otherwise. */
export function columnModel<E = never>(over: Partial<ColumnModel<E>>): ColumnModel<E> {
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
