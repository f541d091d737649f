/**
 * Batch input: IDs from the command line, or a file with one ID per line, or a CSV with a
 * `payment_intent_id` column (and optionally `reason`). The file is streamed line by line, so its size
 * does not matter. Blank lines and `#` comments are skipped; a bad line becomes an `Invalid` input with
 * its line number, and the rest goes on.
 */

import { createReadStream } from "node:fs"
import { access } from "node:fs/promises"
import * as Readline from "node:readline"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as CancelRequest from "../core/CancelRequest.js"

/** Bad input from the user (flags, files, lines): exit 2 with its one-line message. */
export class InputError extends Data.TaggedError("InputError")<{ readonly message: string }> {}

/** One input line: an intent to cancel, or a line that is not one (reported, not fatal). */
export type Input =
  | { readonly _tag: "Intent"; readonly line: number; readonly paymentIntentId: string; readonly reason?: string }
  | { readonly _tag: "Invalid"; readonly line: number; readonly text: string; readonly problem: string }

const preview = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text)

const idProblem = (id: string): string | undefined =>
  CancelRequest.isValidIntentId(id)
    ? undefined
    : `not a payment intent ID (fpi_ followed by a 26-character ULID): ${JSON.stringify(preview(id))}`

export const fromArgs = (ids: ReadonlyArray<string>): Stream.Stream<Input> =>
  Stream.fromIterable(
    ids.map((raw, i): Input => {
      const id = raw.trim()
      const problem = idProblem(id)
      return problem === undefined
        ? { _tag: "Intent", line: i + 1, paymentIntentId: id }
        : { _tag: "Invalid", line: i + 1, text: raw, problem: `argument ${i + 1}: ${problem}` }
    })
  )

/** Splits one CSV line, honouring double quotes (`"a, b"` and `""` inside quotes). */
export const splitCsv = (line: string): Array<string> => {
  const out: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      out.push(field.trim())
      field = ""
    } else field += c
  }
  out.push(field.trim())
  return out
}

interface Format {
  readonly csv: boolean
  readonly idColumn: number
  readonly reasonColumn: number
}

const lines = (path: string): Stream.Stream<string, InputError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      yield* Effect.tryPromise({
        try: () => access(path),
        catch: () => new InputError({ message: `Cannot read ${path}: no such file, or not readable` })
      })
      const rl = yield* Effect.acquireRelease(
        Effect.sync(() =>
          Readline.createInterface({
            input: createReadStream(path, { encoding: "utf8" }),
            crlfDelay: Number.POSITIVE_INFINITY
          })
        ),
        (rl) => Effect.sync(() => rl.close())
      )
      return Stream.fromAsyncIterable(
        rl,
        (error) => new InputError({ message: `Cannot read ${path}: ${(error as Error).message}` })
      )
    })
  )

export const fromFile = (path: string): Stream.Stream<Input, InputError> =>
  Stream.suspend(() => {
    let format: Format | undefined
    let n = 0
    return lines(path).pipe(
      Stream.filterMap((raw): import("effect/Option").Option<Input> => {
        n++
        const line = n
        const text = raw.replace(/^\uFEFF/, "").trim()
        if (text === "" || text.startsWith("#")) return none
        if (format === undefined) {
          const header = splitCsv(text).map((h) => h.toLowerCase())
          const idColumn = header.indexOf("payment_intent_id")
          if (idColumn >= 0) {
            format = { csv: true, idColumn, reasonColumn: header.indexOf("reason") }
            return none
          }
          format = { csv: false, idColumn: 0, reasonColumn: -1 }
        }
        let id = text
        let reason: string | undefined
        if (format.csv) {
          const fields = splitCsv(text)
          id = fields[format.idColumn] ?? ""
          reason = format.reasonColumn >= 0 ? fields[format.reasonColumn] : undefined
        }
        const problem = idProblem(id)
        if (problem !== undefined)
          return some({ _tag: "Invalid", line, text: preview(text), problem: `line ${line}: ${problem}` })
        return some({ _tag: "Intent", line, paymentIntentId: id, ...(reason ? { reason } : {}) })
      })
    )
  })

import * as O from "effect/Option"

const none = O.none()
const some = O.some

/** Counts the requests a file holds (for the progress bar's total), streaming it once. */
export const count = (path: string): Effect.Effect<number, InputError> =>
  Stream.runFold(fromFile(path), 0, (n, input) => (input._tag === "Intent" ? n + 1 : n))
