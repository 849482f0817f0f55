/**
 * COPY's binary format for the column types whose binary form is simple and exact: PostgreSQL
 * stores the same values as from the text format, without parsing text (integers and timestamps
 * parse slowly), and encoding is cheaper too. A batch uses it only when every column has one of
 * these types and every value has the JavaScript type the encoder expects; otherwise the text
 * format is used.
 */
import type { CatalogColumn } from '../model/table-catalog.js';
import { isoUtcMs } from './pg-text.js';

/** Writes one value of a column (never null: nulls are written by the caller). */
type FieldWriter = (value: unknown, out: BinaryChunks) => void;

/** A binary encoding of one PostgreSQL type: which values it takes, and how it writes them. */
interface BinaryType {
  /** The type's OID, which an array in binary form names for its elements. */
  oid: number;
  accepts(value: unknown): boolean;
  write: FieldWriter;
}

// PostgreSQL's epoch (2000-01-01 UTC) in Unix milliseconds.
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const isValidDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

const TYPES: Record<string, BinaryType> = {
  smallint: {
    oid: 21,
    accepts: (v) => isInteger(v) && v >= -32768 && v <= 32767,
    write: (v, out) => out.int16Field(v as number),
  },
  integer: {
    oid: 23,
    accepts: (v) => isInteger(v) && v >= -2147483648 && v <= 2147483647,
    write: (v, out) => out.int32Field(v as number),
  },
  bigint: {
    oid: 20,
    accepts: (v) =>
      (isInteger(v) && Number.isSafeInteger(v)) ||
      (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n) ||
      (typeof v === 'string' && /^-?\d{1,19}$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n),
    write: (v, out) => out.int64Field(BigInt(v as number | bigint | string)),
  },
  boolean: { oid: 16, accepts: (v) => typeof v === 'boolean', write: (v, out) => out.byteField(v ? 1 : 0) },
  'double precision': {
    oid: 701,
    // -0 is sent as 0 in text form (String(-0)), so it stays there.
    accepts: (v) => typeof v === 'number' && !Object.is(v, -0),
    write: (v, out) => out.float64Field(v as number),
  },
  text: { oid: 25, accepts: (v) => typeof v === 'string', write: (v, out) => out.textField(v as string) },
  'character varying': { oid: 1043, accepts: (v) => typeof v === 'string', write: (v, out) => out.textField(v as string) },
  'timestamp with time zone': {
    oid: 1184,
    accepts: (v) => isValidDate(v) || (typeof v === 'string' && isoUtcMs(v) !== undefined),
    write: (v, out) =>
      out.millisecondsAsMicrosField((typeof v === 'string' ? (isoUtcMs(v) as number) : (v as Date).getTime()) - PG_EPOCH_MS),
  },
};

/**
 * The binary writers for columns of these types (catalog type names), when every value of
 * `columns[c]` is one the type's binary form takes exactly; undefined when the text format must be
 * used. `columns[c][r]`: value of column c for row r (null/undefined = NULL).
 */
export function binaryWriters(types: readonly string[], columns: readonly (readonly unknown[])[]): FieldWriter[] | undefined {
  const writers: FieldWriter[] = [];
  for (let c = 0; c < types.length; c++) {
    const type = TYPES[types[c] as string];
    if (!type) return undefined;
    const values = columns[c] as readonly unknown[];
    for (let r = 0; r < values.length; r++) {
      const v = values[r];
      if (v !== null && v !== undefined && !type.accepts(v)) return undefined;
    }
    writers.push(type.write);
  }
  return writers;
}

/**
 * A one-dimensional array of `type` in PostgreSQL's binary array format (what `array_recv` reads),
 * for a `$n::type[]` parameter: node-postgres sends a Buffer parameter in binary form, so the values
 * are neither escaped into an array literal by the client nor parsed by the server. Undefined when
 * the type has no binary form here or a value is not one it takes exactly (the text form is used).
 */
export function binaryArray(type: string, values: readonly unknown[]): Buffer | undefined {
  const binary = TYPES[type];
  if (!binary) return undefined;
  let hasNull = false;
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    if (v === null || v === undefined) hasNull = true;
    else if (!binary.accepts(v)) return undefined;
  }
  const out = new BinaryChunks(20 + values.length * 8);
  out.arrayHeader(binary.oid, values.length, hasNull);
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    if (v === null || v === undefined) out.nullField();
    else binary.write(v, out);
  }
  return out.written();
}

/**
 * The binary array parameter of a column's values when its type travels typed and has a binary
 * form here (see {@link CatalogColumn.paramType}); undefined when it travels as text.
 */
export function binaryParameter(column: CatalogColumn | undefined, values: readonly unknown[]): Buffer | undefined {
  return column?.paramType ? binaryArray(column.paramType, values) : undefined;
}

/** Yields the binary COPY data of `rowCount` rows, in buffers of about `chunkSize` bytes. */
export function* binaryCopyChunks(
  writers: readonly FieldWriter[],
  columns: readonly (readonly unknown[])[],
  rowCount: number,
  chunkSize = 1 << 16,
): Generator<Buffer> {
  const out = new BinaryChunks(chunkSize);
  out.header();
  for (let r = 0; r < rowCount; r++) {
    out.rowStart(writers.length);
    for (let c = 0; c < writers.length; c++) {
      const value = (columns[c] as readonly unknown[])[r];
      if (value === null || value === undefined) out.nullField();
      else (writers[c] as FieldWriter)(value, out);
    }
    if (out.size >= chunkSize) yield out.take();
  }
  out.trailer();
  yield out.take();
}

/** A growing buffer of binary COPY data. */
class BinaryChunks {
  private buffer!: Buffer;
  // Integers and floats go through a DataView: several times cheaper per value than Buffer's
  // writeInt32BE family, whose range checks the encoders' accepts() already made.
  private view!: DataView;
  size = 0;

  constructor(private readonly chunkSize: number) {
    this.use(Buffer.allocUnsafe(chunkSize * 2));
  }

  private use(buffer: Buffer): void {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /** The data so far; the next bytes go to a new buffer. */
  take(): Buffer {
    const data = this.buffer.subarray(0, this.size);
    this.use(Buffer.allocUnsafe(this.chunkSize * 2));
    this.size = 0;
    return data;
  }

  /** The data written, when nothing more will be. */
  written(): Buffer {
    return this.buffer.subarray(0, this.size);
  }

  private room(bytes: number): void {
    if (this.size + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.size + bytes));
    this.buffer.copy(bigger, 0, 0, this.size);
    this.use(bigger);
  }

  private int32(value: number): void {
    this.view.setInt32(this.size, value);
    this.size += 4;
  }

  /** Signature, flags (no OIDs), header extension length. */
  header(): void {
    this.room(19);
    this.size += this.buffer.write('PGCOPY\n\xff\r\n\0', this.size, 'latin1');
    this.int32(0);
    this.int32(0);
  }

  /** A one-dimensional array's header: dimensions, null flag, element type, length, lower bound 1. */
  arrayHeader(elementOid: number, length: number, hasNull: boolean): void {
    this.room(20);
    this.int32(length === 0 ? 0 : 1);
    this.int32(hasNull ? 1 : 0);
    this.int32(elementOid);
    if (length === 0) return;
    this.int32(length);
    this.int32(1);
  }

  trailer(): void {
    this.room(2);
    this.view.setInt16(this.size, -1);
    this.size += 2;
  }

  rowStart(fields: number): void {
    this.room(2);
    this.view.setInt16(this.size, fields);
    this.size += 2;
  }

  nullField(): void {
    this.room(4);
    this.int32(-1);
  }

  byteField(value: number): void {
    this.room(5);
    this.int32(1);
    this.view.setUint8(this.size, value);
    this.size += 1;
  }

  int16Field(value: number): void {
    this.room(6);
    this.int32(2);
    this.view.setInt16(this.size, value);
    this.size += 2;
  }

  int32Field(value: number): void {
    this.room(8);
    this.int32(4);
    this.int32(value);
  }

  int64Field(value: bigint): void {
    this.room(12);
    this.int32(8);
    this.view.setBigInt64(this.size, value);
    this.size += 8;
  }

  /** An int64 of microseconds, given in (whole) milliseconds. */
  millisecondsAsMicrosField(ms: number): void {
    const value = ms * 1000;
    // Beyond 2^53 µs (about 285 years from 2000) a double is no longer exact: BigInt arithmetic.
    if (!Number.isSafeInteger(value)) {
      this.int64Field(BigInt(ms) * 1000n);
      return;
    }
    this.room(12);
    const high = Math.floor(value / 2 ** 32);
    this.int32(8);
    this.int32(high);
    this.view.setUint32(this.size, value - high * 2 ** 32);
    this.size += 4;
  }

  float64Field(value: number): void {
    this.room(12);
    this.int32(8);
    this.view.setFloat64(this.size, value);
    this.size += 8;
  }

  textField(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(4 + value.length * 3);
    const at = this.size + 4;
    const bytes = this.buffer.write(value, at, 'utf8');
    this.view.setInt32(this.size, bytes);
    this.size = at + bytes;
  }
}
