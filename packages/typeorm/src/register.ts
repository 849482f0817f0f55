/**
 * `import '@cohort/typeorm/register'` — adds cohort's bulk methods to every TypeORM Repository, in
 * its types and at run time, in one import. Import it once, where the application starts. Without
 * this import, `Repository` has no bulk methods in TypeScript either: use `withBulk(repository)`.
 *
 * @example
 * ```ts
 * import '@cohort/typeorm/register';
 * await dataSource.getRepository(User).bulkSave(users);
 * ```
 */
import type { ObjectLiteral } from 'typeorm';
import { type BulkRepositoryMethods, registerBulkRepository } from './bulk-repository.js';

declare module 'typeorm' {
  interface Repository<Entity extends ObjectLiteral> extends BulkRepositoryMethods<Entity> {}
}

registerBulkRepository();
