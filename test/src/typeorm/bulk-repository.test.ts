// TypeORM repositories without runtime surprise: withBulk() types and adds the bulk methods to one
// repository and changes nothing global; Repository has no bulk methods in its types unless
// '@cohort/typeorm/register' is imported; registration is idempotent, also across two copies of
// the module (hot reload, duplicate installs).
import { fileURLToPath } from 'node:url';
import { createSchema } from '@cohort/pg-harness';
import { type BulkRepository, registerBulkRepository, withBulk } from '@cohort/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, expectTypeOf, inject, it } from 'vitest';

@Entity('crate')
class Crate {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 20 }) label!: string;
}

let ds: DataSource;
let drop: () => Promise<void>;
const crates = (...labels: string[]) => labels.map((label) => Object.assign(new Crate(), { label }));
const count = async () => Number((await ds.query('SELECT count(*) AS n FROM crate'))[0].n);

beforeAll(async () => {
  const schema = await createSchema(inject('databaseUrl'), 'brepo');
  drop = schema.drop;
  ds = new DataSource({
    type: 'postgres',
    url: inject('databaseUrl'),
    schema: schema.name,
    entities: [Crate],
    synchronize: true,
    extra: { options: `-c search_path=${schema.name}` },
  });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await drop?.();
});

describe('withBulk', () => {
  it('gives one typed repository the bulk methods and leaves Repository alone', async () => {
    const repository = withBulk(ds.getRepository(Crate));
    expectTypeOf(repository).toEqualTypeOf<BulkRepository<Crate>>();
    expectTypeOf(repository.bulkSave).parameter(0).toEqualTypeOf<Iterable<Crate> | AsyncIterable<Crate>>();
    // (Other test files import '@cohort/typeorm/register''s types, so this program cannot check their absence.)
    expect((ds.getRepository(Crate) as unknown as Record<string, unknown>).bulkSave).toBeUndefined();
    expect(repository).toBeInstanceOf(Repository);
    const input = crates('a', 'b');
    expect((await repository.bulkSave(input)).inserted).toBe(2);
    expect(input.map((c) => typeof c.id)).toEqual(['number', 'number']);
    expect(await repository.count()).toBe(2);
    expect(withBulk(repository)).toBe(repository);
  });

  it('keeps its methods through withRepository, on the transaction', async () => {
    const repository = withBulk(ds.getRepository(Crate));
    const before = await count();
    await expect(
      ds.transaction(async (manager) => {
        const inTransaction = manager.withRepository(repository);
        expect((await inTransaction.bulkInsert(crates('t1', 't2'))).inserted).toBe(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await count()).toBe(before);
  });
});

describe('registerBulkRepository', () => {
  it('is idempotent, also for a second copy of the module', async () => {
    // A second instance of the module, as after a hot reload or with two installed copies.
    const source = fileURLToPath(new URL('../../../packages/typeorm/src/bulk-repository.ts', import.meta.url));
    const copyPath = `${source}?copy=${Date.now()}`;
    const copy = (await import(/* @vite-ignore */ copyPath)) as { registerBulkRepository: typeof registerBulkRepository };
    expect(copy.registerBulkRepository).not.toBe(registerBulkRepository);
    const undo = [registerBulkRepository(), registerBulkRepository(), copy.registerBulkRepository()];
    const repository = ds.getRepository(Crate) as BulkRepository<Crate>;
    expect((await repository.bulkInsert(crates('r1'))).inserted).toBe(1);
    for (const u of undo.slice(0, 2)) u();
    expect(typeof repository.bulkInsert).toBe('function');
    undo[2]();
    undo[2]();
    expect('bulkInsert' in ds.getRepository(Crate)).toBe(false);
  });

  it('refuses to replace a method another library put on Repository', () => {
    const proto = Repository.prototype as unknown as Record<string, unknown>;
    proto.bulkSave = () => 'theirs';
    try {
      expect(() => registerBulkRepository()).toThrow(/Repository.prototype.bulkSave already exists/);
    } finally {
      delete proto.bulkSave;
    }
  });
});
