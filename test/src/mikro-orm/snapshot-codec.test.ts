// The MikroORM adapter's codecs against the MikroORM functions they stand in for. The snapshot
// codec (snapshot-codec.ts) against `comparator.prepareEntity()`: for every fixture class and for
// generated entities, random values per property kind give the same snapshot (same keys in the
// same order, equal values, objects copied where MikroORM copies them), or the same error. The
// returned-row writer (apply-returned-row.ts) against `comparator.mapResult()` + the hydrator:
// the same mapped values and the same entity. Pure functions over entities: no database is needed
// (MikroORM 7's init does not connect; 6's does, so the test database's address is given).

import {
  ArrayType,
  BigIntType,
  BlobType,
  type EntityManager,
  type EntityMetadata,
  type EntityProperty,
  JsonType,
  type Ref,
  Reference,
  ReferenceKind,
  Type,
  Utils,
} from '@mikro-orm/core';
import {
  Embeddable,
  Embedded,
  Entity,
  Enum,
  ManyToOne,
  OneToOne,
  PrimaryKey,
  Property,
  ReflectMetadataProvider,
} from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyReturnedRow } from '../../../packages/mikro-orm/src/apply-returned-row.js';
import { hydrateReturned, mapResult } from '../../../packages/mikro-orm/src/mikro-orm-internals.js';
import { snapshotCodec } from '../../../packages/mikro-orm/src/snapshot-codec.js';
import { CommaJoinedType, EuroCentsType } from '../fixtures/mikro-orm/custom-types.js';
import { Author, mikroOrmEntities, mikroOrmFixtures, Profile } from '../fixtures/mikro-orm/index.js';

/** A custom type whose database value is the object itself: MikroORM clones what it converts. */
class PointType extends Type<{ x: number; y: number } | null | undefined, { x: number; y: number } | null | undefined> {
  override convertToDatabaseValue(value: { x: number; y: number } | null | undefined) {
    return value;
  }
  override convertToJSValue(value: { x: number; y: number } | null | undefined) {
    return value;
  }
  override getColumnType(): string {
    return 'jsonb';
  }
  override compareAsType(): string {
    return 'object';
  }
}

enum Color {
  Red = 'red',
  Blue = 'blue',
}
enum Level {
  Low = 1,
  High = 2,
}

/** Target of a composite foreign key. */
@Entity({ tableName: 'codec_pair' })
class CodecPair {
  @PrimaryKey({ type: 'integer' }) a!: number;
  @PrimaryKey({ type: 'string' }) b!: string;
}

/** One property of each kind the codec covers. */
@Entity({ tableName: 'codec_thing' })
class CodecThing {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'bigint', nullable: true }) big?: bigint | null;
  @Property({ type: new BigIntType('number'), nullable: true }) bigNumber?: number | null;
  @Property({ type: 'string', nullable: true }) text?: string | null;
  @Property({ type: 'boolean', nullable: true }) flag?: boolean | null;
  @Property({ type: 'datetime', nullable: true }) when?: Date | null;
  @Property({ type: 'date', nullable: true }) day?: string | null;
  @Property({ type: 'json', nullable: true }) doc?: unknown;
  @Enum({ items: () => Color, nullable: true }) color?: Color | null;
  @Enum({ items: () => Level, nullable: true }) level?: Level | null;
  @Property({ type: PointType, nullable: true }) point?: { x: number; y: number } | null;
  @Property({ type: EuroCentsType, nullable: true }) euros?: number | null;
  @Property({ type: CommaJoinedType, nullable: true }) tags?: string[] | null;
  @Property({ type: ArrayType, nullable: true }) list?: string[] | null;
  @Property({ type: 'double', nullable: true }) ratio?: number | null;
  @Property({ type: 'uuid', nullable: true }) uid?: string | null;
  @Property({ type: BlobType, nullable: true }) bytes?: Buffer | null;
  @Property({ type: 'string', persist: false }) transient?: string;
  @ManyToOne(() => CodecPair, { nullable: true }) pair?: CodecPair | null;
  @ManyToOne(() => Author, { ref: true, nullable: true }) writer?: Ref<Author> | null;
  @ManyToOne(() => Author, { mapToPk: true, nullable: true }) editor?: number | null;
  @OneToOne(() => Profile, { owner: true, nullable: true }) profile?: Profile | null;
}

/** A single-table hierarchy: the subclass snapshot carries the discriminator. */
@Entity({ tableName: 'codec_shape', discriminatorColumn: 'kind', discriminatorMap: { sq: 'CodecSquare' } })
class CodecShape {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Property({ type: 'string', length: 10 }) kind!: string;
}
@Entity({ discriminatorValue: 'sq' })
class CodecSquare extends CodecShape {
  @Property({ type: 'integer', nullable: true }) side?: number | null;
}

/** Embedded inline: its properties in the owner's columns. */
@Embeddable()
class CodecSpot {
  @Property({ type: 'string', nullable: true }) name?: string | null;
  @Property({ type: 'datetime', nullable: true }) seen?: Date | null;
  @Property({ type: EuroCentsType, nullable: true }) fee?: number | null;
  @Property({ type: PointType, nullable: true }) point?: { x: number; y: number } | null;
  @Property({ type: 'json', nullable: true }) extra?: unknown;
}

/** Two inline embeddables, one prefixed, one not. */
@Entity({ tableName: 'codec_place' })
class CodecPlace {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Embedded(() => CodecSpot, { prefix: 'home_', nullable: true }) home?: CodecSpot | null;
  @Embedded(() => CodecSpot, { prefix: false, nullable: true }) work?: CodecSpot | null;
}

/** An object (JSON) embeddable: not covered by the codec. */
@Entity({ tableName: 'codec_json_place' })
class CodecJsonPlace {
  @PrimaryKey({ type: 'integer' }) id!: number;
  @Embedded(() => CodecSpot, { object: true, nullable: true }) spot?: CodecSpot | null;
}

let orm: MikroORM;
let em: EntityManager;

beforeAll(async () => {
  orm = await MikroORM.init({
    clientUrl: inject('databaseUrl'),
    entities: [...mikroOrmEntities, CodecPair, CodecThing, CodecShape, CodecSquare, CodecSpot, CodecPlace, CodecJsonPlace],
    metadataProvider: ReflectMetadataProvider,
    allowGlobalContext: true,
  });
  em = orm.em.fork() as unknown as EntityManager;
});
afterAll(() => orm?.close());

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.boolean(),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.jsonValue(),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
);
const orNothing = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(undefined), fc.constant(null), arb);

/** A Date that `clone` treats specially: an own property, a subclass. */
const oddDate = fc.oneof(
  fc.date().map((d) => Object.assign(new Date(d.getTime()), { note: 'x' })),
  fc.date().map((d) => {
    class LocalDate extends Date {}
    return new LocalDate(d.getTime());
  }),
);

/** Random values for one property, by what it holds (and sometimes a value of another kind). */
function valueFor(prop: EntityProperty<object>): fc.Arbitrary<unknown> {
  const target = prop.targetMeta as EntityMetadata<object> | undefined;
  if ((prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE) && target) {
    if (prop.mapToPk) return orNothing(fc.integer());
    const key = keyFor(target);
    const entity = key.map((pk) => {
      const ref = em.getReference(target.class, pk as never);
      return prop.ref ? Reference.create(ref) : ref;
    });
    const unsaved = fc.constant(null).map(() => {
      const fresh = new (target.class as new () => object)();
      return prop.ref ? Reference.create(fresh) : fresh;
    });
    return orNothing(fc.oneof(entity, unsaved));
  }
  if (prop.kind === ReferenceKind.EMBEDDED && target) {
    const children: Record<string, fc.Arbitrary<unknown>> = {};
    for (const child of target.props) children[child.name] = valueFor(child);
    const embeddable = fc.record(children, { requiredKeys: [] }).map((values) => {
      const instance = new (target.class as new () => object)();
      for (const [name, value] of Object.entries(values)) (instance as Record<string, unknown>)[name] = value;
      return instance;
    });
    return orNothing(embeddable);
  }
  const type = prop.customType;
  if (type instanceof EuroCentsType) return orNothing(fc.double({ noNaN: true, min: -1e6, max: 1e6 }));
  if (type instanceof CommaJoinedType) return orNothing(fc.array(fc.string(), { maxLength: 4 }));
  if (type instanceof PointType) return orNothing(fc.record({ x: fc.integer(), y: fc.integer() }));
  if (type instanceof ArrayType) return orNothing(fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }));
  if (type instanceof BlobType) return orNothing(fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)));
  if (type instanceof JsonType) return orNothing(fc.oneof(fc.jsonValue(), fc.object()));
  if (type instanceof BigIntType) return orNothing(fc.oneof(fc.bigInt(), fc.integer(), fc.bigInt().map(String)));
  switch (String(prop.runtimeType)) {
    case 'Date':
      return fc.oneof(orNothing(fc.date({ noInvalidDate: false })), oddDate, anyValue);
    case 'number':
      return fc.oneof(orNothing(fc.oneof(fc.integer(), fc.double())), anyValue);
    case 'string':
      return fc.oneof(orNothing(fc.string()), anyValue);
    case 'boolean':
      return fc.oneof(orNothing(fc.boolean()), anyValue);
    default:
      return anyValue;
  }
}

/** A primary key value for `meta` (an array for a composite one). */
function keyFor(meta: EntityMetadata<object>): fc.Arbitrary<unknown> {
  const parts = meta.getPrimaryProps().map((p) => (String(p.runtimeType) === 'string' ? fc.string() : fc.nat()));
  return parts.length === 1 ? (parts[0] as fc.Arbitrary<unknown>) : fc.tuple(...parts);
}

/** Entities of `cls` with random values in their snapshot's properties. */
function entitiesOf(cls: new () => object): fc.Arbitrary<object> {
  const meta = orm.getMetadata().find(cls) as EntityMetadata<object>;
  const props = meta.comparableProps.filter((p) => !p.embedded);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const prop of props) record[prop.name] = valueFor(prop);
  return fc.record(record, { requiredKeys: [] }).map((values) => {
    const entity = new cls();
    for (const [name, value] of Object.entries(values)) (entity as Record<string, unknown>)[name] = value;
    return entity;
  });
}

type Outcome = { value: Record<string, unknown> } | { error: string };

function run(fn: () => Record<string, unknown>): Outcome {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error) };
  }
}

/** The codecs mirror MikroORM 7; on another major every class keeps MikroORM's own functions. */
const mirrored = Utils.getORMVersion().split('.')[0] === '7';

/** MikroORM's snapshot and the codec's, for one entity. */
function expectSameSnapshot(entity: object): void {
  const codec = snapshotCodec(em, entity);
  if (!mirrored) {
    expect(codec).toBeUndefined();
    return;
  }
  expect(codec).toBeDefined();
  const original = console.error;
  // MikroORM prints its compiled function's source when it throws ("JIT runtime error").
  console.error = () => undefined;
  let expected: Outcome;
  try {
    expected = run(() => em.getComparator().prepareEntity(entity) as Record<string, unknown>);
  } finally {
    console.error = original;
  }
  const actual = run(() => codec?.(entity) as Record<string, unknown>);
  if ('error' in expected) {
    expect(actual).toEqual(expected);
    return;
  }
  expect('value' in actual).toBe(true);
  const value = (actual as { value: Record<string, unknown> }).value;
  expect(Object.keys(value)).toEqual(Object.keys(expected.value));
  expect(value).toStrictEqual(expected.value);
  // Copied where MikroORM copies, shared where it shares: the entity's objects (its embeddables' too).
  const source = new Set<unknown>();
  for (const item of Object.values(entity)) {
    source.add(item);
    if (item !== null && typeof item === 'object') for (const inner of Object.values(item)) source.add(inner);
  }
  for (const key of Object.keys(value)) {
    if (value[key] === null || typeof value[key] !== 'object') continue;
    expect(source.has(value[key]), key).toBe(source.has(expected.value[key]));
  }
}

describe('snapshot codec', () => {
  it('covers every fixture class; a class with an object embeddable keeps MikroORM’s function', () => {
    const uncovered = Object.entries(mikroOrmFixtures)
      .filter(([, cls]) => snapshotCodec(em, new cls()) === undefined)
      .map(([name]) => name);
    expect(uncovered).toEqual(mirrored ? [] : Object.keys(mikroOrmFixtures));
    expect(snapshotCodec(em, new CodecThing()) !== undefined).toBe(mirrored);
    expect(snapshotCodec(em, new CodecSquare()) !== undefined).toBe(mirrored);
    expect(snapshotCodec(em, new CodecPlace()) !== undefined).toBe(mirrored);
    expect(snapshotCodec(em, new CodecJsonPlace())).toBeUndefined();
  });

  for (const [name, cls] of Object.entries(mikroOrmFixtures)) {
    it(`gives prepareEntity's snapshot for fixture ${name}`, () => {
      fc.assert(fc.property(entitiesOf(cls), expectSameSnapshot), { numRuns: 200 });
    });
  }

  it("gives prepareEntity's snapshot for generated entities of every property kind", () => {
    fc.assert(fc.property(entitiesOf(CodecThing), expectSameSnapshot), { numRuns: 1000 });
  });

  it("gives prepareEntity's snapshot for inline embeddables (prefixed, with custom types)", () => {
    fc.assert(fc.property(entitiesOf(CodecPlace), expectSameSnapshot), { numRuns: 500 });
  });

  it("gives prepareEntity's snapshot for an STI subclass (its discriminator included)", () => {
    fc.assert(fc.property(entitiesOf(CodecSquare), expectSameSnapshot), { numRuns: 200 });
  });

  it('gives the key of a managed reference, the identifier of a reference without one yet', () => {
    const author = em.getReference(Author, 7);
    const fresh = new Author();
    em.persist(fresh);
    for (const writer of [Reference.create(author), Reference.create(fresh), null, undefined]) {
      const thing = Object.assign(new CodecThing(), {
        id: 1,
        writer,
        profile: null,
        pair: em.getReference(CodecPair, [1, 'x'] as never),
      });
      expectSameSnapshot(thing);
    }
    em.clear();
  });
});

/** A returned row for `meta`: some of its scalar columns, with values as node-postgres may give them. */
function returnedRowOf(meta: EntityMetadata<object>): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const prop of meta.props) {
    if (prop.kind !== ReferenceKind.SCALAR || prop.fieldNames?.length !== 1 || prop.embedded) continue;
    const field = prop.fieldNames[0] as string;
    if (prop.customType) continue;
    if (prop.runtimeType === 'Date') record[field] = orNothing(fc.date());
    else if (prop.runtimeType === 'boolean') record[field] = orNothing(fc.boolean());
    else record[field] = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.string());
  }
  return fc.record(record, { requiredKeys: [] });
}

describe('returned values', () => {
  for (const [name, cls] of Object.entries(mikroOrmFixtures)) {
    it(`are mapped and set on a ${name} as comparator.mapResult + the hydrator do`, () => {
      const meta = orm.getMetadata().find(cls) as EntityMetadata<object>;
      fc.assert(
        fc.property(returnedRowOf(meta), (row) => {
          const expected = new cls();
          const actual = new cls();
          const mappedExpected = mapResult(em, meta, { ...row });
          hydrateReturned(em, expected, meta, mappedExpected);
          const mappedActual = applyReturnedRow(em, meta, actual, { ...row });
          expect(Object.keys(mappedActual)).toEqual(Object.keys(mappedExpected));
          expect(mappedActual).toStrictEqual(mappedExpected);
          for (const prop of meta.props) {
            const key = prop.name as keyof typeof actual;
            expect(actual[key], prop.name).toStrictEqual(expected[key]);
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});
