// Row values of the benchmark: deterministic per index, unique labels per run.

/** What every path writes: the three data columns, and the key once known. */
export interface Row {
  id?: number;
  qty: number;
  label: string;
  createdAt: Date;
}

const BASE = Date.UTC(2026, 0, 1);

/** The values of input row `i`; `tag` keeps labels unique across runs and workloads. */
export function rowValues(i: number, tag: string): Row {
  return { qty: i, label: `${tag}-${i}`, createdAt: new Date(BASE + i * 1000) };
}

/** Changes every data column of a row, as an update workload does. */
export function changeRow(row: Row, tag: string): void {
  row.qty = row.qty + 1_000_000;
  row.label = `${tag}-changed-${row.id}`;
  row.createdAt = new Date(row.createdAt.getTime() + 3_600_000);
}

/** Escapes one value for COPY's text format. */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Splits an array into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
