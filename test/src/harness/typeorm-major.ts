/**
 * The run loads TypeORM 0.3 (COHORT_TYPEORM=0.3, the pinned tools/typeorm-0.3;
 * src/typeorm/typeorm-major.test.ts checks that every TypeORM file loaded is that copy). Tests whose
 * oracle, TypeORM's own path, behaves differently on 0.3 pin both behaviours with it
 * (docs/differences.md, "By version").
 */
export const ON_TYPEORM_03 = process.env.COHORT_TYPEORM === '0.3';
