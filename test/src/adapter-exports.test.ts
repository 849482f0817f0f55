// The adapters export every type their functions take or return, so a user never imports
// @cohort/core: each name @cohort/core exports is exported by both adapters (read from the entry
// points' sources), and the types are the same (checked by the type checker).
import { readFileSync } from 'node:fs';
import type * as Core from '@cohort/core';
import type * as MikroOrm from '@cohort/mikro-orm';
import type * as Typeorm from '@cohort/typeorm';
import { describe, expect, expectTypeOf, it } from 'vitest';

const source = (path: string) => readFileSync(new URL(`../../packages/${path}`, import.meta.url), 'utf8');

/** The names an entry point exports in `export { … }` / `export type { … }` lists. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, list] of text.matchAll(/export (?:type )?\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const name = item
        .trim()
        .replace(/^type /, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  return names;
}

describe('adapter exports', () => {
  const core = exportedNames(source('core/src/index.ts'));

  it.each(['typeorm', 'mikro-orm'])('@cohort/%s exports every name of @cohort/core', (adapter) => {
    const own = exportedNames(source(`${adapter}/src/index.ts`));
    expect(core.size).toBeGreaterThan(20);
    expect([...core].filter((name) => !own.has(name))).toEqual([]);
  });

  it('the re-exported types are the types of @cohort/core', () => {
    expectTypeOf<Typeorm.BulkProgress>().toEqualTypeOf<Core.BulkProgress>();
    expectTypeOf<MikroOrm.BulkProgress>().toEqualTypeOf<Core.BulkProgress>();
    expectTypeOf<Typeorm.BulkResult<{ id: number }>>().toEqualTypeOf<Core.BulkResult<{ id: number }>>();
    expectTypeOf<MikroOrm.SaveOptions>().toEqualTypeOf<Core.SaveOptions>();
    expectTypeOf<Typeorm.UpsertOptions>().toEqualTypeOf<Core.UpsertOptions>();
    expectTypeOf<MikroOrm.BulkEvent<object, object, object>>().toEqualTypeOf<Core.BulkEvent<object, object, object>>();
    expectTypeOf<Typeorm.BulkValidationError>().toEqualTypeOf<Core.BulkValidationError>();
    expectTypeOf<MikroOrm.PartialImportError>().toEqualTypeOf<Core.PartialImportError>();
    expectTypeOf<Typeorm.SkipReason>().toEqualTypeOf<Core.SkipReason>();
  });
});
