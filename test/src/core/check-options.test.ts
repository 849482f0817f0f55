// The one place options are checked (no database): keys per operation, values, names against the
// model, an adapter's extra keys (its own, and ORM names it honours or refuses), and the nearest known
// key for a likely typo.
import { BulkUsageError, UnsupportedFeatureError } from '@cohort/core';
import { adoptOption, checkOptions, type OptionSpec, optionRule } from '@cohort/core/adapter';
import { describe, expect, it } from 'vitest';

const model = {
  name: 'Person',
  columns: [
    { name: 'id', property: 'id' },
    { name: 'email_address', property: 'email' },
    { name: 'display_name', property: 'displayName' },
  ],
} as never;

const thrown = (fn: () => unknown): BulkUsageError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BulkUsageError);
    return error as BulkUsageError;
  }
  throw new Error('expected a BulkUsageError');
};

describe('checkOptions', () => {
  it('accepts undefined options, an empty object, and every option of the operation', () => {
    expect(() => checkOptions('bulkInsert', undefined)).not.toThrow();
    expect(() => checkOptions('bulkUpdate', {})).not.toThrow();
    expect(() =>
      checkOptions(
        'bulkUpsert',
        { batchSize: 1, target: ['email'], update: ['display_name'], expressions: { displayName: 'x' } },
        { model },
      ),
    ).not.toThrow();
  });

  it('names the nearest known key for a typo, by case, a transposition or a letter', () => {
    expect(thrown(() => checkOptions('bulkInsert', { batchsize: 1 })).message).toBe(
      'cohort: bulkInsert has no option "batchsize" (did you mean "batchSize"?)',
    );
    expect(thrown(() => checkOptions('bulkUpdate', { chekcVersion: true })).message).toMatch(/did you mean "checkVersion"/);
    expect(thrown(() => checkOptions('bulkSave', { hook: true })).message).toMatch(/did you mean "hooks"/);
    const unrelated = thrown(() => checkOptions('bulkSave', { somethingElse: 1 }));
    expect(unrelated.message).toBe('cohort: bulkSave has no option "somethingElse"');
    expect(unrelated.option).toBe('somethingElse');
  });

  it('an option of another operation says whose it is; an inherited key (toString) is not an option', () => {
    expect(thrown(() => checkOptions('bulkUpdate', { duplicates: 'error' })).message).toBe(
      'cohort: bulkUpdate has no option "duplicates" (an option of bulkInsert, bulkUpsert, bulkSave)',
    );
    expect(thrown(() => checkOptions('bulkInsert', { toString: 'x' })).option).toBe('toString');
  });

  it('names a column or property that does not exist, with the nearest one', () => {
    const error = thrown(() => checkOptions('bulkUpsert', { target: ['emial'] }, { model }));
    expect(error.message).toBe(
      'cohort: bulkUpsert option "target": Person has no column or property "emial" (did you mean "email"?)',
    );
    expect(error.option).toBe('target');
    expect(thrown(() => checkOptions('bulkInsert', { onConflict: { update: ['display'] } }, { model })).option).toBe(
      'onConflict.update',
    );
  });

  it("an adapter's extra keys: accepted for their operations, their values checked, refusals typed", () => {
    const extra: Record<string, OptionSpec> = {
      managed: { rule: optionRule.boolean },
      paths: { rule: optionRule.strings, operations: ['bulkUpsert'], origin: "an ORM's upsert()" },
      predicate: {
        rule: optionRule.any,
        origin: "an ORM's upsert()",
        refuse: (v) => (v === 'ok' ? undefined : 'partial indexes are not supported'),
      },
    };
    expect(() => checkOptions('bulkInsert', { managed: false, predicate: 'ok' }, { extra })).not.toThrow();
    expect(thrown(() => checkOptions('bulkInsert', { managed: 'no' }, { extra })).message).toBe(
      'cohort: bulkInsert option "managed" must be a boolean, got "no"',
    );
    expect(thrown(() => checkOptions('bulkInsert', { paths: [] }, { extra })).message).toMatch(/an option of bulkUpsert/);
    const refused = thrown(() => checkOptions('bulkSave', { predicate: 'x > 1' }, { extra }));
    expect(refused).toBeInstanceOf(UnsupportedFeatureError);
    expect(refused).toMatchObject({ option: 'predicate', feature: 'option predicate' });
    expect(refused.message).toBe(
      `cohort: bulkSave option "predicate" (an ORM's upsert() option) is not supported: partial indexes are not supported`,
    );
    expect(() => checkOptions('bulkSave', { predicate: undefined }, { extra })).not.toThrow();
  });
});

describe('adoptOption', () => {
  it("puts an ORM's option under cohort's name; refuses when cohort's is given with another value", () => {
    expect(adoptOption('bulkInsert', { batchSize: 5 }, 'chunk', 5, 'batchSize')).toEqual({ batchSize: 5 });
    expect(adoptOption('bulkUpsert', { target: ['b', 'a'] }, 'paths', ['a', 'b'], 'target')).toEqual({ target: ['a', 'b'] });
    const error = thrown(() => adoptOption('bulkInsert', { hooks: true }, 'listeners', false, 'hooks'));
    expect(error.message).toBe('cohort: bulkInsert: "listeners" (false) and "hooks" (true) disagree; give one of them');
    expect(error.option).toBe('listeners');
  });
});
