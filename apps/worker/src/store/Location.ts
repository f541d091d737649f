/**
 * Where the worker keeps its state: a SQLite file (embedded), or a PostgreSQL database (cluster mode),
 * told apart by the `postgres://` scheme; and how to name it without its password.
 */
import { mkdirSync, statSync } from "node:fs"
import * as Path from "node:path"
import * as Either from "effect/Either"
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

const codeOf = (error: unknown): string => String((error as { code?: unknown }).code ?? "unknown error")

/** `ENOENT: no such file or directory, mkdir '/x'` as `no such file or directory, ENOENT`. */
const sentence = (error: unknown): string => {
  const code = codeOf(error)
  const text = /^[A-Z]+: ([^,]+)/.exec(String((error as Error).message))?.[1]
  return text === undefined ? code : `${text}, ${code}`
}

/**
 * Makes the directory a SQLite store goes in, and its missing parents; or says in a few words why it
 * cannot be (the reason a `StoreUnavailable` carries).
 *
 * Not `mkdirSync(dir, { recursive: true })`: under a path where mkdir says ENOENT although the parent
 * exists (`/proc/nope`), Node's recursive mkdir retries forever in one synchronous call, at 100 % CPU,
 * and the process never sees SIGINT or SIGTERM. This walks up to the nearest existing ancestor once, and
 * makes each missing directory below it with one plain mkdir, so every failure is an answer.
 */
export const ensureDirectory = (dir: string): Either.Either<void, string> => {
  const missing: Array<string> = []
  let current = Path.resolve(dir)
  for (;;) {
    let isDirectory: boolean | undefined
    try {
      isDirectory = statSync(current).isDirectory()
    } catch (error) {
      const code = codeOf(error)
      // ENOTDIR: a component above is a file; walking up finds it and says so.
      if (code !== "ENOENT" && code !== "ENOTDIR") return Either.left(`cannot read ${current} (${sentence(error)})`)
    }
    if (isDirectory === true) break
    if (isDirectory === false) return Either.left(`${current} is a file, not a directory`)
    const parent = Path.dirname(current)
    if (parent === current) return Either.left(`${current} does not exist`)
    missing.unshift(current)
    current = parent
  }
  for (const path of missing) {
    try {
      mkdirSync(path)
    } catch (error) {
      if (codeOf(error) === "EEXIST") continue
      return Either.left(`cannot create the directory ${path} (${sentence(error)})`)
    }
  }
  return Either.void
}
