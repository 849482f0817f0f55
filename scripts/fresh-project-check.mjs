#!/usr/bin/env node
// Packs the publishable packages (`pnpm pack`), installs the tarballs into a new project next to
// the ORMs from the registry, and type-checks (`tsc --noEmit --strict`) a NestJS module providing a withBulk repository (the
// guide's recipe), a TypeORM app using
// withBulk and '@cohort/typeorm/register', and a MikroORM app using the documented repository setup
// (BulkEntityRepository, withBulkMethods) with createQueryBuilder. Too slow for the test suite (an
// npm install); run it before a release: `node scripts/fresh-project-check.mjs` (after a build).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cohort-fresh-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });

for (const name of ['core', 'typeorm', 'mikro-orm']) {
  run(process.execPath, [join(root, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', dir], join(root, 'packages', name));
}
const tarball = (name) => `file:./${readdirSync(dir).find((f) => f.startsWith(`cohort-${name}-`))}`;
const pkg = {
  name: 'fresh',
  private: true,
  type: 'module',
  dependencies: {
    '@cohort/core': tarball('core'),
    '@cohort/typeorm': tarball('typeorm'),
    '@cohort/mikro-orm': tarball('mikro-orm'),
    typeorm: '1.1.1',
    pg: '8.23.1',
    'reflect-metadata': '0.2.2',
    '@mikro-orm/core': '7.2.1',
    '@mikro-orm/postgresql': '7.2.1',
    '@mikro-orm/sql': '7.2.1',
    '@mikro-orm/decorators': '7.2.1',
    typescript: '6.0.3',
    '@nestjs/common': '12.5.1',
    '@nestjs/core': '12.5.1',
    '@nestjs/typeorm': '12.0.2',
    rxjs: '7.8.2',
    '@types/node': '20.19.0',
    '@types/pg': '8.23.1',
  },
  overrides: { '@cohort/core': tarball('core') },
};
writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ESNext'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noEmit: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    types: ['node'],
  },
  include: ['src'],
};
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
mkdirSync(join(dir, 'src'));
writeFileSync(
  join(dir, 'src/typeorm-app.ts'),
  `import 'reflect-metadata';
import { type BulkProgress, type BulkRepository, BulkValidationError, withBulk } from '@cohort/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';

@Entity()
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column() email!: string;
}

export class UserImport {
  private readonly users: BulkRepository<User>;
  constructor(repository: Repository<User>) {
    this.users = withBulk(repository);
  }
  async run(rows: User[], onProgress: (p: BulkProgress) => void) {
    try {
      const result = await this.users.bulkSave(rows, { onProgress });
      return result.inserted + result.updated;
    } catch (error) {
      if (error instanceof BulkValidationError) return error.failures.length;
      throw error;
    }
  }
}

export async function withRegister(dataSource: DataSource) {
  await import('@cohort/typeorm/register');
  return dataSource.getRepository(User).bulkUpsert([], { target: ['email'] });
}
`,
);
writeFileSync(
  join(dir, 'src/mikro-orm-app.ts'),
  `import { BulkEntityRepository, withBulkMethods } from '@cohort/mikro-orm';
import { Entity, PrimaryKey, Property, ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { EntityRepository, EntityRepositoryType, MikroORM } from '@mikro-orm/postgresql';

@Entity()
export class Author {
  [EntityRepositoryType]?: BulkEntityRepository<Author>;
  @PrimaryKey() id!: number;
  @Property() name!: string;
}

export class BookRepository extends withBulkMethods(EntityRepository<Book>) {
  titled(prefix: string) {
    return this.createQueryBuilder('b').where({ title: { $like: prefix + '%' } }).getResult();
  }
}

@Entity({ repository: () => BookRepository })
export class Book {
  [EntityRepositoryType]?: BookRepository;
  @PrimaryKey() id!: number;
  @Property() title!: string;
}

export async function main(clientUrl: string) {
  const orm = await MikroORM.init({ clientUrl, entities: [Author, Book], metadataProvider: ReflectMetadataProvider, entityRepository: BulkEntityRepository });
  const em = orm.em.fork();
  const authors = em.getRepository(Author);
  const saved = await authors.bulkSave([Object.assign(new Author(), { name: 'Ada' })]);
  const names: string[] = (await authors.createQueryBuilder('a').getResult()).map((a) => a.name);
  const books = em.getRepository(Book);
  const inserted = await books.bulkInsert([Object.assign(new Book(), { title: 'x' })]);
  const titled: Book[] = await books.titled('x');
  await orm.close();
  return { saved: saved.inserted, names, inserted: inserted.inserted, titled: titled.length };
}
`,
);
writeFileSync(
  join(dir, 'src/nest-app.ts'),
  `import { Inject, Injectable, Module } from '@nestjs/common';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { type BulkRepository, withBulk } from '@cohort/typeorm';
import type { Repository } from 'typeorm';
import { User } from './typeorm-app.js';

export const BULK_USERS = Symbol('BulkRepository<User>');

@Injectable()
export class UserImportService {
  constructor(@Inject(BULK_USERS) private readonly users: BulkRepository<User>) {}
  async run(rows: User[]): Promise<number> {
    const result = await this.users.bulkSave(rows);
    return result.inserted;
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [
    { provide: BULK_USERS, inject: [getRepositoryToken(User)], useFactory: (r: Repository<User>) => withBulk(r) },
    UserImportService,
  ],
  exports: [UserImportService],
})
export class UserModule {}
`,
);
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);
run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit', '--strict'], dir);
console.log(`fresh project type-checks: ${dir}`);
