// A long chain of new related entities (each author's new mentor, cascading inserts): cohort's
// walks of a batch's graph (typeorm-cascades.ts, typeorm-cascade-changes.ts) recursed once per
// entity and failed on some thousands with a raw RangeError (call stack); now an explicit stack.
// 300 deep compared with save() (rows, objects, hooks, a following save()); 5,000 deep, where
// save() fails with RangeError (docs/differences.md, "Trees in one call"), written by cohort with
// each mentor's key right.
import { describe, expect, it } from 'vitest';
import { TrAuthor, TrPost } from './cascade-review-entities.js';
import { expectSameAsSave, make, pair, write } from './cascade-review-harness.js';

/** A post whose new author a0 is mentored by a1, … a(n-1): each a new author. */
function chain(depth: number): TrPost[] {
  let author: TrAuthor | null = null;
  for (let i = depth - 1; i >= 0; i--) author = make(TrAuthor, { name: `a${i}`, mentor: author });
  return [make(TrPost, { title: 'p0', author: author as TrAuthor })];
}

describe('a chain of new authors, each the mentor of the last', () => {
  for (const call of ['bulkInsert', 'bulkSave'] as const) {
    it(`${call}, 300 deep: as save()`, async () => {
      await expectSameAsSave(async () => chain(300), call);
    });

    it(`${call}, 5,000 deep: written, each mentor's key right (save() fails with RangeError)`, async () => {
      await expect(write(pair.reference(), chain(5000), call)).rejects.toThrow(RangeError);
      const side = pair.subject();
      const rows = chain(5000);
      await write(side, rows, call);
      const stored = new Map(
        (
          await side.query<{ id: number; name: string; mentorId: number | null }>(
            `SELECT id, name, "mentorId" FROM "${side.schema}".tr_author`,
          )
        ).map((r) => [r.id, r]),
      );
      expect(stored.size).toBe(5000);
      let author = rows[0]?.author;
      for (let i = 0; i < 5000; i++) {
        const row = stored.get(author?.id as number);
        expect(row?.name).toBe(`a${i}`);
        expect(row?.mentorId ?? null).toBe(author?.mentor?.id ?? null);
        author = author?.mentor;
      }
      expect(author).toBeNull();
    });
  }
});
