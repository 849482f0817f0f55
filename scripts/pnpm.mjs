#!/usr/bin/env node
// Runs the pinned pnpm without needing it installed globally (corepack is not available everywhere).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = pkg.packageManager.split('@')[1].split('+')[0];
// A `pnpm` on PATH may be a shim that runs this very script (a tool calling `pnpm pack`, say): the
// probe below would then start this script again, which would probe again, without end. Started as
// that probe, this script says no at once, and the caller takes the pinned pnpm from the registry.
if (process.env.COHORT_PNPM_PROBE === '1') process.exit(1);
const local = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env: { ...process.env, COHORT_PNPM_PROBE: '1' } });
const useLocal = local.status === 0 && local.stdout.trim() === version;
const [cmd, args] = useLocal ? ['pnpm', process.argv.slice(2)] : ['npx', ['-y', `pnpm@${version}`, ...process.argv.slice(2)]];
const run = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } });
process.exit(run.status ?? 1);
