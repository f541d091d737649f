/**
 * Garbage input files: property-based (fast-check) over the file reader — random lines of any unicode,
 * control characters, invalid UTF-8, huge lines, CSV with quotes — and a few garbage files through the
 * real CLI. Every bad line is reported with its line number (and never echoed whole), every good line
 * is processed, and nothing ever fails the batch or crashes the worker.
 */
import { rmSync, writeFileSync } from "node:fs"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Chunk, Effect, Exit, FastCheck as fc, Stream } from "effect"
import * as Input from "../../src/cli/Input.js"
import * as CancelRequest from "../../src/core/CancelRequest.js"
import * as Cli from "../support/cli.js"
import * as Invariants from "../support/invariants.js"
import {
  CANARY_KEY,
  outputsOf,
  type ProcessRun,
  secretLeaks,
  spawnWorker,
  summarize,
  workDir,
  workerEnv
} from "../support/scenario.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const validId = fc
  .tuple(
    fc.constantFrom(..."01234567"),
    fc.array(fc.constantFrom(...alphabet), { minLength: 25, maxLength: 25 }),
    fc.boolean()
  )
  .map(([first, rest, lower]) => {
    const id = `fpi_${first}${rest.join("")}`
    return lower ? id.toLowerCase() : id
  })

/** A line of garbage: any unicode (lone surrogates included), control characters, huge, never a newline. */
const garbageText = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.constantFrom("fpi_", "fpi_SHORT", "FPI_01J9M9S346Q3D25VT4F5V37E3", "\u0000\u0001\u0002", "\u202Efpi_rtl", "﻿﻿"),
    fc.integer({ min: 10_000, max: 300_000 }).map((n) => "x".repeat(n)),
    validId.map((id) => `${id}x`),
    validId.map((id) => `${id} ${id}`)
  )
  .map((text) => text.replace(/[\r\n\u2028\u2029\u0085]/g, " "))

type Line =
  | { readonly kind: "valid"; readonly id: string; readonly pad: string }
  | { readonly kind: "other"; readonly text: string }

const lineArb: fc.Arbitrary<Line> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(validId, fc.constantFrom("", " ", "\t", "  "))
      .map(([id, pad]) => ({ kind: "valid" as const, id, pad }))
  },
  { weight: 3, arbitrary: garbageText.map((text) => ({ kind: "other" as const, text })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("", "   ", "# a comment", "#fpi_01J9M9S346Q3D25VT4F5V37E3S")
      .map((text) => ({ kind: "other" as const, text }))
  }
)

const collect = (path: string) =>
  Effect.exit(Effect.map(Stream.runCollect(Input.fromFile(path)), Chunk.toReadonlyArray))

/** What the documented rule says a plain line is: blank or `#` skipped, an ID accepted, anything else reported. */
const expected = (text: string): "skip" | "intent" | "invalid" => {
  const t = text.replace(/^\uFEFF/, "").trim()
  if (t === "" || t.startsWith("#")) return "skip"
  return CancelRequest.isValidIntentId(t) ? "intent" : "invalid"
}

describe("chaos: garbage input files (property-based)", () => {
  it.scoped("one ID per line: every bad line reported by number, every good one read, never a failure", () =>
    Effect.gen(function* () {
      const dir = workDir("input-plain").dir
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      let runs = 0
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            validId,
            fc.array(lineArb, { maxLength: 60 }),
            fc.constantFrom("\n", "\r\n"),
            async (first, lines, eol) => {
              runs++
              const texts = [first, ...lines.map((l) => (l.kind === "valid" ? `${l.pad}${l.id}${l.pad}` : l.text))]
              const path = Path.join(dir, `f${runs}.txt`)
              writeFileSync(path, texts.join(eol) + eol)
              const exit = await Effect.runPromise(collect(path))
              assert.isTrue(Exit.isSuccess(exit), `never a failure: ${String(exit)}`)
              const inputs = Exit.isSuccess(exit) ? exit.value : []
              const want = texts
                .map((text, i) => ({ line: i + 1, kind: expected(text) }))
                .filter((w) => w.kind !== "skip")
              assert.deepStrictEqual(
                inputs.map((input) => [input.line, input._tag === "Intent" ? "intent" : "invalid"]),
                want.map((w) => [w.line, w.kind])
              )
              for (const input of inputs) {
                if (input._tag === "Invalid") {
                  assert.isTrue(input.problem.startsWith(`line ${input.line}: `), input.problem.slice(0, 100))
                  assert.isAtMost(input.problem.length, 200, "a bad line is previewed, never echoed whole")
                  assert.isAtMost(input.text.length, 200)
                } else {
                  assert.strictEqual(input.paymentIntentId, texts[input.line - 1]!.trim())
                }
              }
            }
          ),
          { numRuns: 150 }
        )
      )
    })
  )

  /** The first line the reader would look at: decoded as UTF-8, blank lines and `#` comments skipped. */
  const firstLine = (bytes: Uint8Array): string =>
    new TextDecoder()
      .decode(bytes)
      .split("\n")
      .map((l) => l.replace(/^\uFEFF/, "").trim())
      .find((l) => l !== "" && !l.startsWith("#")) ?? ""

  /** The documented header rule (README, Commands): two or more separated column names, none an ID. */
  const readsAsForeignHeader = (line: string): boolean => {
    const separator = [",", ";", "\t", "|"].find((s) => line.includes(s))
    if (separator === undefined) return false
    const columns = line.split(separator).map((c) => c.trim().replace(/^"|"$/g, ""))
    return (
      columns.length >= 2 &&
      columns.every((c) => /^[\p{L}_][\p{L}\p{N}_ .-]*$/u.test(c) && !/^fpi_/i.test(c)) &&
      !columns.some((c) => c.toLowerCase() === "payment_intent_id")
    )
  }

  it.scoped(
    "any bytes at all (invalid UTF-8, NULs, no newline at the end): a successful stream, lines in order, or the header error",
    () =>
      Effect.gen(function* () {
        const dir = workDir("input-bytes").dir
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        let runs = 0
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              fc.uint8Array({ maxLength: 20_000 }),
              fc.array(validId, { maxLength: 5 }),
              async (bytes, ids) => {
                runs++
                const path = Path.join(dir, `b${runs}.bin`)
                writeFileSync(path, Buffer.concat([Buffer.from(bytes), Buffer.from(`\n${ids.join("\n")}\n`)]))
                const exit = await Effect.runPromise(collect(path))
                // The one failure a file may end in: its first line reads as a header (two or more
                // separated column names, no ID) without a payment_intent_id column. Random bytes make one
                // now and then (`A|B`): then that is the answer, and nothing else is.
                if (readsAsForeignHeader(firstLine(bytes))) {
                  assert.isTrue(Exit.isFailure(exit), "a header without the column fails the file")
                  assert.include(String(exit), "no payment_intent_id column")
                  return
                }
                assert.isTrue(Exit.isSuccess(exit), `never a failure: ${String(exit)}`)
                const inputs = Exit.isSuccess(exit) ? exit.value : []
                for (let i = 1; i < inputs.length; i++) assert.isAbove(inputs[i]!.line, inputs[i - 1]!.line)
                // The IDs after the junk are read (a junk first line can make the file a CSV only if it
                // names a payment_intent_id column, and fail it only if it reads as a header, letters and
                // separators only, which random bytes do not).
                const read = inputs.flatMap((input) => (input._tag === "Intent" ? [input.paymentIntentId] : []))
                for (const id of ids) assert.include(read, id)
              }
            ),
            { numRuns: 60 }
          )
        )
      })
  )

  it.scoped("CSV with quotes, commas and garbage in any column: the ID column decides, the reason survives", () =>
    Effect.gen(function* () {
      const dir = workDir("input-csv").dir
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      let runs = 0
      const field = fc
        .string({ unit: "grapheme", maxLength: 30 })
        .map((s) => s.replace(/[\r\n\u2028\u2029\u0085]/g, " "))
      const quote = (s: string) => (/[",]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s)
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.array(fc.record({ id: fc.oneof(validId, field), reason: field, other: field }), {
              minLength: 1,
              maxLength: 40
            }),
            async (rows) => {
              runs++
              const path = Path.join(dir, `c${runs}.csv`)
              const body = rows.map((r) => [quote(r.other), quote(r.id), quote(r.reason)].join(","))
              writeFileSync(path, `order,Payment_Intent_ID,reason\n${body.join("\n")}\n`)
              const exit = await Effect.runPromise(collect(path))
              assert.isTrue(Exit.isSuccess(exit), `never a failure: ${String(exit)}`)
              const inputs = Exit.isSuccess(exit) ? exit.value : []
              const want = rows.flatMap((r, i) => {
                const line = i + 2
                const raw = body[i]!.trim()
                if (raw === "" || raw.startsWith("#")) return []
                return [{ line, ok: CancelRequest.isValidIntentId(r.id.trim()), reason: r.reason.trim() }]
              })
              assert.deepStrictEqual(
                inputs.map((input) => [input.line, input._tag === "Intent"]),
                want.map((w) => [w.line, w.ok])
              )
              for (const input of inputs) {
                if (input._tag !== "Intent") continue
                const w = want.find((x) => x.line === input.line)!
                assert.strictEqual(input.reason ?? "", w.reason)
              }
            }
          ),
          { numRuns: 150 }
        )
      )
    })
  )
})

describe("chaos: garbage files through the CLI", () => {
  it.scopedLive(
    "binary junk, a 5 MB line, broken quotes: bad lines reported, the rest canceled; an empty file: exit 2",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const sandbox = yield* Sandbox.start({ seed: 808, apiKey: CANARY_KEY })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 40 }, (_, i) => ({
            status: "requires_capture" as const,
            amount: 1000 + i,
            capture_method: "manual" as const
          }))
        )
        const ids = intents.map((pi) => pi.payment_intent_id)
        const work = workDir("input-cli")
        const env = workerEnv(sandbox)
        const runs: Array<ProcessRun> = []
        const junk = Buffer.from(
          Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 10 && b !== 13)
        )
        const files: Array<{
          name: string
          content: Buffer
          ids: ReadonlyArray<string>
          invalid: ReadonlyArray<number>
        }> = [
          {
            name: "junk.txt",
            content: Buffer.concat([
              Buffer.from(`${ids[0]}\n`),
              junk,
              Buffer.from(`\n${ids[1]}\n\u0000\u0000\n${ids[2]}\n`)
            ]),
            ids: ids.slice(0, 3),
            invalid: [2, 4]
          },
          {
            name: "huge-line.txt",
            content: Buffer.from(`${ids[3]}\n${"Z".repeat(5_000_000)}\n${ids[4]}\n`),
            ids: ids.slice(3, 5),
            invalid: [2]
          },
          {
            name: "broken.csv",
            content: Buffer.from(
              `payment_intent_id,reason\n${ids[5]},"unterminated\n"${ids[6]}","a ""quoted"", reason"\n,missing\n${ids[7]},${"r".repeat(100_000)}\n"${ids[8]}\n${ids[11]}x,one too many\nfpi_,x\n`
            ),
            // A quote left open runs to the end of its line (a line is a record): lines 2 and 6 are read.
            ids: [ids[5]!, ids[6]!, ids[7]!, ids[8]!],
            invalid: [4, 7, 8]
          },
          {
            name: "bom-crlf-unicode.txt",
            content: Buffer.from(`\uFEFF${ids[9]}\r\n  ${ids[10]!.toLowerCase()}\t\r\nfpi_０１J9\r\n😀\r\n`),
            ids: [ids[9]!, ids[10]!],
            invalid: [3, 4]
          }
        ]
        let n = 0
        for (const file of files) {
          const path = Path.join(work.dir, file.name)
          writeFileSync(path, file.content)
          const run = yield* Effect.promise(
            () =>
              spawnWorker(work, ++n, ["cancel", "--file", path, "--store", work.store, "--rate", "50", "--json"], env)
                .done
          )
          runs.push(run)
          // Rejected lines are listed in the report, and the exit says so (3); a clean file exits 0.
          assert.strictEqual(run.code, file.invalid.length > 0 ? 3 : 0, `${file.name}: ${run.stderr.slice(-500)}`)
          const report = JSON.parse(run.stdout)
          assert.deepStrictEqual(
            report.invalid_lines.map((l: { line: number }) => l.line),
            file.invalid,
            `${file.name}: ${JSON.stringify(report.invalid_lines).slice(0, 500)}`
          )
          for (const l of report.invalid_lines) assert.isAtMost(JSON.stringify(l).length, 400, "never echoed whole")
          assert.strictEqual(report.total, file.ids.length, file.name)
          assert.strictEqual(report.outcomes.canceled, file.ids.length, file.name)
        }
        // An empty file is an input error, not an empty success: exit 2, one line, nothing stored.
        const empty = Path.join(work.dir, "empty.txt")
        writeFileSync(empty, "")
        const emptyRun = yield* Effect.promise(
          () => spawnWorker(work, ++n, ["cancel", "--file", empty, "--store", work.store, "--json"], env).done
        )
        runs.push(emptyRun)
        assert.strictEqual(emptyRun.code, 2, emptyRun.stderr.slice(-500))
        assert.strictEqual(emptyRun.stderr, `flex-worker: no payment intent IDs in ${empty}\n`)
        const requested = files.flatMap((f) => f.ids)
        const result = yield* Invariants.checkAll(sandbox, work.store, { requested, rate: 50 })
        const leaks = secretLeaks(outputsOf(runs), [work.dir])
        summarize({
          scenario: "garbage input files through the CLI",
          requests: requested.length,
          kills: 0,
          faults: result.faults,
          result,
          seconds: (Date.now() - t0) / 1000,
          extra: `${files.length} files, ${files.reduce((s, f) => s + f.invalid.length, 0)} bad lines reported`,
          pass: result.violations.length === 0 && leaks.length === 0
        })
        assert.deepStrictEqual(leaks, [])
        assert.deepStrictEqual(result.violations, [])
      }),
    300_000
  )
})
