/**
 * Where the worker keeps its state: a SQLite file (embedded), or a PostgreSQL database (cluster mode),
 * told apart by the `postgres://` scheme; and how to name it without its password.
 */
import * as Redacted from "effect/Redacted"

/** Where the worker keeps its state: a SQLite file, or a PostgreSQL database for cluster mode. */
export type Location =
  | { readonly _tag: "Sqlite"; readonly path: string }
  | { readonly _tag: "Postgres"; readonly url: Redacted.Redacted<string> }

export const location = (store: string): Location =>
  /^postgres(ql)?:\/\//.test(store) ? { _tag: "Postgres", url: Redacted.make(store) } : { _tag: "Sqlite", path: store }

/** A URL for logs and messages: the password never shows. */
export const describe = (where: Location): string => {
  if (where._tag === "Sqlite") return where.path
  try {
    const url = new URL(Redacted.value(where.url))
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "postgres://(unparsable URL)"
  }
}
