// What one CSV line becomes, whichever ORM writes it: the columns of the file and how a text field
// turns into a property value. Invalid values are kept as they are (NaN, an Invalid Date): cohort's
// validation and the entity's class-validator decorators reject the row, naming the property.

/** The file's columns, in order. */
export const COLUMNS = ['email', 'name', 'age', 'signed_up', 'country'] as const;

/** The properties of a customer, read from one line. */
export interface CustomerFields {
  email: string | null;
  name: string | null;
  age: number | null;
  signedUp: Date | null;
  country: string | null;
}

const text = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

/** The properties of one line's fields (in {@link COLUMNS} order). */
export function customerFields(fields: readonly string[]): CustomerFields {
  const [email, name, age, signedUp, country] = fields;
  const ageText = text(age);
  const signedUpText = text(signedUp);
  return {
    email: text(email),
    name: text(name),
    age: ageText === null ? null : Number(ageText),
    signedUp: signedUpText === null ? null : new Date(signedUpText),
    country: text(country),
  };
}

/** The table both ORMs write, created when missing. */
export function customerTableSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS "${schema}";
CREATE TABLE IF NOT EXISTS "${schema}"."customer" (
  id serial PRIMARY KEY,
  email varchar(120) NOT NULL UNIQUE,
  name varchar(80) NOT NULL,
  age integer,
  signed_up timestamptz,
  country varchar(2)
)`;
}
