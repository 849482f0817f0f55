import { startDatabase } from '@cohort/pg-harness';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** One PostgreSQL for the whole run: DATABASE_URL when set, otherwise an embedded server. */
export default async function setup(project: TestProject) {
  const db = await startDatabase();
  project.provide('databaseUrl', db.url);
  return () => db.stop();
}
