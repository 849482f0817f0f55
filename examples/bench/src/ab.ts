// Paired A/B of one benchmark case: the same case from two builds of the repository (or one build
// with BENCH_PIPELINE=0), each in its own process, run alternately (A B, B A, A B…) so that the
// server's drift falls on both alike. Prints both medians and the median of the paired differences.
//
//   node dist/ab.js <checkoutA>[:nopipe] <checkoutB>[:nopipe] <workload> <path> <rows> [rounds] [reference path]
//
// A checkout is a directory holding this repository, built (`npm run setup`); `:nopipe` runs its
// cases with BENCH_PIPELINE=0. The reference path (e.g. raw-copy) runs from checkout A in the same
// rounds, for a ratio. Uses DATABASE_URL, else an embedded PostgreSQL.
import { type ChildProcess, fork } from 'node:child_process';
import { startDatabase } from '@cohort/pg-harness';
import type { CaseCommand, CaseMessage, CaseSpec } from './case-runner.js';
import { median } from './data.js';

interface Side {
  name: string;
  child: ChildProcess;
  ask(command: CaseCommand): Promise<CaseMessage>;
  /** Resolves once the child has set its case up. */
  ready: Promise<CaseMessage>;
  times: number[];
}

function side(name: string, checkout: string, spec: CaseSpec): Side {
  const [dir, flag] = checkout.split(':');
  const env = flag === 'nopipe' ? { ...process.env, BENCH_PIPELINE: '0' } : process.env;
  const child = fork(`${dir}/examples/bench/dist/case-runner.js`, [JSON.stringify(spec)], {
    env,
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiter: ((m: CaseMessage) => void) | undefined;
  child.on('message', (m: CaseMessage) => {
    const w = waiter;
    waiter = undefined;
    w?.(m);
  });
  child.on('exit', () => waiter?.({ report: { ok: false, error: 'child exited' } as never }));
  const ask = (command?: CaseCommand) =>
    new Promise<CaseMessage>((resolve) => {
      waiter = resolve;
      if (command) child.send(command);
    });
  // Listening from the start: the child's first message may come while another side is awaited.
  return { name, child, ask, ready: ask(), times: [] };
}

async function main(): Promise<void> {
  const [a, b, workload, key, rowsArg, roundsArg, referenceKey] = process.argv.slice(2);
  if (!a || !b || !workload || !key || !rowsArg) {
    throw new Error('usage: ab <checkoutA>[:nopipe] <checkoutB>[:nopipe] <workload> <path> <rows> [rounds] [reference path]');
  }
  const rounds = Number(roundsArg ?? 10);
  const db = await startDatabase();
  const spec = (k: string): CaseSpec => ({ workload, key: k, size: Number(rowsArg), warmups: 1, runs: rounds, url: db.url });
  const sides = [side('A', a, spec(key)), side('B', b, spec(key))];
  if (referenceKey) sides.push(side(referenceKey, a, spec(referenceKey)));
  try {
    for (const s of sides) await s.ready;
    // Round 0 warms every side up; the order alternates from round to round.
    for (let round = 0; round <= rounds; round++) {
      for (const s of round % 2 ? [...sides].reverse() : sides) {
        const m = await s.ask({ run: round });
        if (!('ms' in m)) throw new Error(`${s.name} failed: ${JSON.stringify(m).slice(0, 500)}`);
        if (round > 0) s.times.push(m.ms);
      }
    }
    for (const s of sides) await s.ask({ finish: true });
  } finally {
    for (const s of sides) s.child.kill();
    await db.stop();
  }
  const [sa, sb, ref] = sides as [Side, Side, Side | undefined];
  for (const s of sides) {
    const ratio = ref && s !== ref ? ` (${(median(s.times) / median(ref.times)).toFixed(2)}× ${ref.name})` : '';
    console.log(
      `${s.name.padEnd(10)} median ${median(s.times).toFixed(0)} ms${ratio}; runs ${s.times.map((t) => t.toFixed(0)).join(' ')}`,
    );
  }
  const diffs = sa.times.map((t, i) => t - (sb.times[i] as number));
  console.log(
    `A − B: paired median ${median(diffs).toFixed(0)} ms; A faster in ${diffs.filter((d) => d < 0).length} of ${diffs.length} rounds`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
