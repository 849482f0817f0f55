/**
 * Turns a value, as an ORM hands it to node-postgres, into PostgreSQL's text input form. Every
 * column travels as text (in `unnest($n::text[])` arrays or COPY rows, cast in SQL, or in a typed
 * array parameter parsed by the type's own input function, which is what that cast does), so the
 * conversions here follow node-postgres' own (`prepareValue`) to store exactly what the ORM's own
 * save would store.
 */
export function toPgText(value: unknown, zoned = false): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      break;
  }
  // Local time with its offset, as node-postgres sends it: the same wall-clock time for timestamp and
  // date columns. For timestamptz (`zoned`) UTC ISO text is the same instant, and much cheaper.
  if (value instanceof Date) return zoned && inIsoYears(value) ? utcIsoText(value) : localDateTime(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  const custom = (value as { toPostgres?: (prepare: (v: unknown) => unknown) => unknown }).toPostgres;
  if (typeof custom === 'function') return toPgText(custom.call(value, toPgText));
  return JSON.stringify(value);
}

/** A PostgreSQL array literal: `{1,NULL,"a \"b\""}`. */
export function arrayLiteral(values: readonly unknown[]): string {
  const parts = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = toPgText(v) as string;
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

// 0001-01-01 and 10000-01-01 UTC: PostgreSQL reads ISO text of years 1–9999 only (`toISOString`
// gives 0000 for 1 BC and ±YYYYYY beyond); other dates take node-postgres' form (` BC`, 5 digits).
const FIRST_ISO_MS = -62_135_596_800_000;
const PAST_ISO_MS = 253_402_300_800_000;

/** Whether `utcIsoText` of the date is text PostgreSQL reads (a valid date of years 1–9999). */
export function inIsoYears(date: Date): boolean {
  const time = date.getTime();
  return time >= FIRST_ISO_MS && time < PAST_ISO_MS;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
// The date part of the last day formatted: imported rows tend to cluster in time.
let lastDay = Number.NaN;
let lastDayText = '';

/**
 * `date.toISOString()` for a valid date, without its cost (`toISOString` and the `getUTC*` getters
 * take ~0.7 µs each; a batch of timestamps pays that per row). The civil date comes from the day
 * number by the proleptic-Gregorian era arithmetic; years outside 0–9999 use `toISOString` itself.
 */
export function utcIsoText(date: Date): string {
  const time = date.getTime();
  const day = Math.floor(time / DAY_MS);
  if (day !== lastDay) {
    const text = dayText(day);
    if (text === undefined) return date.toISOString();
    lastDay = day;
    lastDayText = text;
  }
  let rest = time - day * DAY_MS;
  const ms = rest % 1000;
  rest = (rest - ms) / 1000;
  const s = rest % 60;
  rest = (rest - s) / 60;
  const m = rest % 60;
  const h = (rest - m) / 60;
  return `${lastDayText}T${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}.${THREE_DIGITS[ms]}Z`;
}

/** `YYYY-MM-DD` of a day counted from 1970-01-01, or undefined outside years 0–9999. */
function dayText(day: number): string | undefined {
  // Days from 0000-03-01, in 400-year eras of 146,097 days; years start in March so that the leap
  // day is the last day of a year.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return undefined;
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-${TWO_DIGITS[dayOfMonth]}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function localDateTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  let year = d.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  return (
    `${pad(year, 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}${bc ? ' BC' : ''}`
  );
}

/**
 * Milliseconds since 1970 of an ISO UTC string in `toISOString`'s exact form naming a real instant
 * of years 1–9999; undefined for anything else (sent as text). Worked out from the digits:
 * `Date.parse` is slower, rolls a 30th of February over into March and reads year 0000 as 1 BC,
 * where PostgreSQL refuses both.
 */
export function isoUtcMs(value: string): number | undefined {
  // YYYY-MM-DDTHH:MM:SS.mmmZ, checked character by character (a regex test costs more).
  if (value.length !== 24 || value.charCodeAt(23) !== 90 /* Z */) return undefined;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84) return undefined;
  if (value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58 || value.charCodeAt(19) !== 46) return undefined;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 7);
  const day = digitsAt(value, 8, 10);
  const hour = digitsAt(value, 11, 13);
  const minute = digitsAt(value, 14, 16);
  const second = digitsAt(value, 17, 19);
  const milli = digitsAt(value, 20, 23);
  // A non-digit makes its field negative.
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return undefined;
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + milli;
}

/** The number written by the digits of value[from, to), or -1 when one is not a digit. */
function digitsAt(value: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] as number);
}

/** Days from 1970-01-01 to a proleptic-Gregorian date (eras of 400 years, years from March). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
