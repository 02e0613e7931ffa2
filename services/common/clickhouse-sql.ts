/**
 * SQL literals for ClickHouse. 18.16 has no server-side query parameters, so values are inlined as
 * literals; this module is the only place that turns a value into SQL text. Strings are quoted with
 * every character that the ClickHouse lexer treats specially escaped, so any input (quotes,
 * backslashes, NUL, newlines, unicode) round-trips exactly. Identifiers are validated, not escaped.
 */

export class SqlLiteralError extends Error {
  readonly code = 'SQL_LITERAL_INVALID' as const;
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
  '\r': '\\r',
  '\n': '\\n',
  '\t': '\\t',
};

/** A ClickHouse string literal: 'it\'s'. */
export function str(value: string): string {
  return `'${value.replace(/[\\'\0\b\f\r\n\t]/g, (c) => ESCAPES[c]!)}'`;
}

/** An integer literal; refuses non-integers and values a double cannot hold exactly. */
export function int(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isSafeInteger(value)) throw new SqlLiteralError(`not a safe integer: ${value}`);
  return String(value);
}

/** A float literal; refuses NaN and infinities (ClickHouse would read them as identifiers). */
export function float(value: number): string {
  if (!Number.isFinite(value)) throw new SqlLiteralError(`not a finite number: ${value}`);
  return String(value);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A database/table/column name, checked against a plain identifier pattern and quoted. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new SqlLiteralError(`not a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** A parenthesised list of literals for IN: ('a', 'b'). Empty lists are refused (IN () is invalid). */
export function list<T>(values: readonly T[], lit: (v: T) => string): string {
  if (values.length === 0) throw new SqlLiteralError('empty IN list');
  return `(${values.map(lit).join(', ')})`;
}

/** A list of tuples of string literals for multi-column IN: (('d1', 's1'), ('d2', 's2')). */
export function tuples(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) throw new SqlLiteralError('empty IN list');
  return `(${rows.map((r) => `(${r.map(str).join(', ')})`).join(', ')})`;
}
