/**
 * @module
 * Tables declared once, as column specs: a migration's DDL is built from them and every row type
 * is derived from them, so a column is never written down twice. Shared by every actor's schema
 * (`session/store/schema.ts`, `product/schema.ts`).
 */

/** Column name → SQLite column spec, as it appears in `CREATE TABLE`. */
export type Columns = Readonly<Record<string, string>>;

/** The DDL for a set of tables and indexes, in declaration order; `withoutRowid` names tables keyed by their primary key alone. */
export function schemaSql(tables: Readonly<Record<string, Columns>>, indexes: readonly string[], withoutRowid: readonly string[] = []): string {
  const creates = Object.entries(tables).map(
    ([name, columns]) =>
      `CREATE TABLE ${name} (\n${Object.entries(columns).map(([c, spec]) => `  ${c} ${spec}`).join(",\n")}\n)${withoutRowid.includes(name) ? " WITHOUT ROWID" : ""}`,
  );
  return [...creates, ...indexes].map((statement) => `${statement};`).join("\n");
}

/** The DDL that adds columns to existing tables (`ALTER TABLE … ADD COLUMN`), in declaration order. */
export function addColumnsSql(tables: Readonly<Record<string, Columns>>): string {
  return Object.entries(tables)
    .flatMap(([name, columns]) => Object.entries(columns).map(([c, spec]) => `ALTER TABLE ${name} ADD COLUMN ${c} ${spec};`))
    .join("\n");
}

/** `'a', 'b'` (a CHECK … IN list) → "a" | "b". */
type Quoted<L extends string> = L extends `'${infer A}', ${infer Rest}` ? A | Quoted<Rest> : L extends `'${infer A}'` ? A : never;
type TextValue<S extends string> = S extends `${string} IN (${infer L})${string}` ? Quoted<L> : string;
type BaseValue<S extends string> = S extends `INTEGER${string}` ? number : S extends `TEXT${string}` ? TextValue<S> : never;
type NullValue<S extends string> = S extends `${string}NOT NULL${string}` | `${string}PRIMARY KEY${string}` ? never : null;

/** The row `SELECT *` returns for a table description. */
export type RowOf<T extends Columns> = { -readonly [C in keyof T]: BaseValue<T[C]> | NullValue<T[C]> };
