// The CPU time of one benchmark case's timed write (`process.cpuUsage()` around it, this process
// only: PostgreSQL's work is not in it), next to its wall time: what part of a path is the ORM's
// and cohort's own work, and what is the database's. One process, one schema, a warm-up run
// first; prints the measured runs sorted by CPU time.
//
//   DATABASE_URL=… node --expose-gc dist/cpu-probe.js <workload> <path> <rows> [runs]
//   e.g. node --expose-gc dist/cpu-probe.js graph cohort-mikro 10000 2
// With PROBE_PROFILE=<file>, the last measured write alone is sampled (node:inspector) into a
// .cpuprofile for dist/profile-summary.js: the data generation and the warm-up are left out.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { CaseSession } from './db.js';
import { findPath } from './paths.js';

const [workload = 'graph', key = 'cohort-mikro', rows = '10000', runs = '2'] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
if (!url) throw new Error('cpu-probe needs DATABASE_URL');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const path = findPath(workload, key);
const session = await CaseSession.open(url, `bench_probe_${workload}_${key}`, workload === 'upsert', workload === 'graph');
const measured: { cpu: number; wall: number }[] = [];
const profileTo = process.env.PROBE_PROFILE;
const inspector = new Session();
if (profileTo) {
  inspector.connect();
  await inspector.post('Profiler.enable');
}
try {
  for (let run = 0; run <= Number(runs); run++) {
    await session.reset();
    const prepared = await path.prepare(session, Number(rows), `r${run}`);
    gc();
    const profiling = profileTo !== undefined && run === Number(runs);
    if (profiling) await inspector.post('Profiler.start');
    const cpu = process.cpuUsage();
    const started = performance.now();
    await prepared.write();
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    if (profiling) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(profileTo, JSON.stringify(profile));
    }
    await prepared.cleanup?.();
    if (run > 0) measured.push({ cpu: (used.user + used.system) / 1000, wall });
  }
} finally {
  await session.close();
}
measured.sort((a, b) => a.cpu - b.cpu);
const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(' ');
console.log(
  `${workload}/${key} × ${rows}: cpu ms ${ms(measured.map((m) => m.cpu))} | wall ms ${ms(measured.map((m) => m.wall))}`,
);
process.exit(0);
