/** Prints a section heading. */
export function section(title: string): void {
  console.log(`\n${title}`);
}

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString() : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => `   ${r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  ')}`;
  console.log(line(cells[0] as string[]));
  console.log(`   ${widths.map((w) => '─'.repeat(w)).join('  ')}`);
  for (const r of cells.slice(1)) console.log(line(r));
}
