// Renders docs/benchmark.md and docs/benchmark.svg again from examples/bench/results/latest.json
// (written by the last full run), e.g. after a change to the report's layout.
import { readFileSync, writeFileSync } from 'node:fs';
import { type CaseOutcome, type RunInfo, renderMarkdown, renderSvg } from './report.js';

const { info, outcomes } = JSON.parse(readFileSync(new URL('../results/latest.json', import.meta.url), 'utf8')) as {
  info: RunInfo;
  outcomes: CaseOutcome[];
};
writeFileSync(new URL('../../../docs/benchmark.md', import.meta.url), renderMarkdown(info, outcomes));
writeFileSync(new URL('../../../docs/benchmark.svg', import.meta.url), renderSvg(info, outcomes));
console.log('rendered docs/benchmark.md and docs/benchmark.svg from results/latest.json');
