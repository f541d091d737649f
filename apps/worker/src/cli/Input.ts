/**
 * Batch input: IDs from the command line, or a file with one ID per line, or a CSV with a
 * `payment_intent_id` column (and optionally `reason`). The file is streamed line by line, so its size
 * does not matter. Blank lines and `#` comments are skipped; a bad line becomes an `Invalid` input with
 * its line number, and the rest goes on. Input that cannot be what was meant fails as a whole: a first
 * line that looks like a header but has no `payment_intent_id` column, or a source without a single ID.
 */

import { constants, createReadStream } from "node:fs"
import { access, stat } from "node:fs/promises"
import * as Readline from "node:readline"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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
      const info = yield* Effect.tryPromise({
        try: () => stat(path),
        catch: () => new InputError({ message: `Cannot read ${path}: no such file` })
      })
      if (info.isDirectory()) return yield* new InputError({ message: `Cannot read ${path}: it is a directory` })
      yield* Effect.tryPromise({
        try: () => access(path, constants.R_OK),
        catch: () => new InputError({ message: `Cannot read ${path}: permission denied` })
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
      // Up to `linesPerChunk` lines per pull: one stream element per line cost some thirty Effect
      // operations a line (the readline iterator has them buffered; awaiting it is cheap).
      const iterator = rl[Symbol.asyncIterator]()
      const pull = Effect.tryPromise({
        try: async () => {
          const lines: Array<string> = []
          for (;;) {
            const next = await iterator.next()
            if (next.done) return { lines, done: true }
            lines.push(next.value)
            if (lines.length >= linesPerChunk) return { lines, done: false }
          }
        },
        catch: (error) => new InputError({ message: `Cannot read ${path}: ${(error as Error).message}` })
      })
      return Stream.paginateChunkEffect(undefined, () =>
        Effect.map(
          pull,
          ({ done, lines }) => [Chunk.unsafeFromArray(lines), done ? Option.none() : Option.some(undefined)] as const
        )
      )
    })
  )

const linesPerChunk = 500

/** A column name: letters first, then letters, digits, `_`, `-`, `.` or spaces. */
const columnName = /^[\p{L}_][\p{L}\p{N}_ .-]*$/u

/**
 * The columns of a first line that is a header without a `payment_intent_id` column (`id,reason`,
 * `payment_intent_id;reason`), and the separator it uses; `undefined` for a line that is not a header.
 * It takes a separator, two or more named columns and no ID: a single word (or `|A`) is as likely a
 * bad first line of a file of plain IDs, which is reported as such while the rest goes on.
 */
const foreignHeader = (text: string): { readonly columns: Array<string>; readonly separator: string } | undefined => {
  const separator = [",", ";", "\t", "|"].find((s) => text.includes(s))
  if (separator === undefined) return undefined
  const columns = (separator === "," ? splitCsv(text) : text.split(separator)).map((c) =>
    c.trim().replace(/^"|"$/g, "")
  )
  // Two columns at least, every one named: `|A` or `x,` is a bad line, not a header.
  if (columns.length < 2 || !columns.every((c) => columnName.test(c) && !CancelRequest.isValidIntentId(c)))
    return undefined
  return { columns, separator }
}

const headerError = (path: string, header: { readonly columns: Array<string>; readonly separator: string }) => {
  const hint =
    header.separator !== "," && header.columns.some((c) => c.toLowerCase() === "payment_intent_id")
      ? `; columns are separated by commas, not ${JSON.stringify(header.separator)}`
      : ""
  return new InputError({
    message: `${path}: no payment_intent_id column (found: ${header.columns.map((c) => preview(c)).join(", ")})${hint}`
  })
}

export const fromFile = (path: string): Stream.Stream<Input, InputError> =>
  Stream.suspend(() => {
    let format: Format | undefined
    let n = 0
    /** One line: an input, nothing (blank, comment, the header), or the error that ends the file. */
    const parse = (raw: string): Input | InputError | undefined => {
      n++
      const line = n
      const text = raw.replace(/^\uFEFF/, "").trim()
      if (text === "" || text.startsWith("#")) return undefined
      if (format === undefined) {
        const header = splitCsv(text).map((h) => h.toLowerCase())
        const idColumn = header.indexOf("payment_intent_id")
        if (idColumn >= 0) {
          format = { csv: true, idColumn, reasonColumn: header.indexOf("reason") }
          return undefined
        }
        format = { csv: false, idColumn: 0, reasonColumn: -1 }
        // Otherwise every line would be "not a payment intent ID", and the batch an empty success.
        const foreign = CancelRequest.isValidIntentId(text) ? undefined : foreignHeader(text)
        if (foreign !== undefined) return headerError(path, foreign)
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
        return { _tag: "Invalid", line, text: preview(text), problem: `line ${line}: ${problem}` }
      return { _tag: "Intent", line, paymentIntentId: id, ...(reason ? { reason } : {}) }
    }
    return lines(path).pipe(
      Stream.mapChunksEffect((chunk) => {
        const out: Array<Input> = []
        for (const raw of chunk) {
          const input = parse(raw)
          if (input?._tag === "InputError") return Effect.fail(input)
          if (input !== undefined) out.push(input)
        }
        return Effect.succeed(Chunk.unsafeFromArray(out))
      })
    )
  })

/**
 * Fails unless the file can be read, its header (if any) has a `payment_intent_id` column and it holds
 * at least one ID; it stops reading at the first ID. Run before the store is opened, so input that
 * cannot be meant leaves nothing behind.
 */
export const check = (path: string): Effect.Effect<void, InputError> =>
  Effect.flatMap(
    Stream.runHead(Stream.filter(fromFile(path), (input) => input._tag === "Intent")),
    Option.match({
      onNone: () => Effect.fail(new InputError({ message: `no payment intent IDs in ${path}` })),
      onSome: () => Effect.void
    })
  )

/** Fails when IDs were given as arguments and none of them is one (`cancel not-an-id`). */
export const checkArgs = (ids: ReadonlyArray<string>): Effect.Effect<void, InputError> =>
  ids.length === 0 || ids.some((id) => idProblem(id.trim()) === undefined)
    ? Effect.void
    : Effect.fail(new InputError({ message: "no payment intent IDs in the arguments" }))

/** Counts the requests a file holds (for the progress bar's total), streaming it once. */
export const count = (path: string): Effect.Effect<number, InputError> =>
  Stream.runFold(fromFile(path), 0, (n, input) => (input._tag === "Intent" ? n + 1 : n))
