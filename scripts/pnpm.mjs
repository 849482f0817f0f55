#!/usr/bin/env node
// Runs the pinned pnpm without needing it installed globally (corepack is not available everywhere).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = pkg.packageManager.split('@')[1].split('+')[0];
const local = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
const useLocal = local.status === 0 && local.stdout.trim() === version;
const [cmd, args] = useLocal ? ['pnpm', process.argv.slice(2)] : ['npx', ['-y', `pnpm@${version}`, ...process.argv.slice(2)]];
const run = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } });
process.exit(run.status ?? 1);
