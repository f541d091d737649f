import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as Input from "../src/cli/Input.js"

const file = (content: string) => {
  const path = Path.join(mkdtempSync(Path.join(tmpdir(), "flex-input-")), "ids.txt")
  writeFileSync(path, content)
  return path
}
const read = (path: string) => Effect.map(Stream.runCollect(Input.fromFile(path)), Chunk.toReadonlyArray)

const a = "fpi_01J9M9S346Q3D25VT4F5V37E3S"
const b = "fpi_01J9QKFBF5KZNWJ47TAN9ZT24M"

describe("Input", () => {
  it.effect("reads one ID per line, skipping blanks and comments, reporting bad lines by number", () =>
    Effect.gen(function* () {
      const inputs = yield* read(file(`\uFEFF${a}\n\n# a comment\n  ${b}  \nnot-an-id\r\n${a.toLowerCase()}\n`))
      assert.deepStrictEqual(
        inputs.map((i) => [i._tag, i.line]),
        [
          ["Intent", 1],
          ["Intent", 4],
          ["Invalid", 5],
          ["Intent", 6]
        ]
      )
      const invalid = inputs[2]
      assert.isTrue(invalid?._tag === "Invalid" && invalid.problem.startsWith("line 5: not a payment intent ID"))
    })
  )

  it.effect("reads a CSV with a payment_intent_id column and an optional reason, quotes included", () =>
    Effect.gen(function* () {
      const inputs = yield* read(
        file(`order,payment_intent_id,reason\n1,${a},"duplicate, customer asked"\n2,${b},\n3,,missing\n`)
      )
      assert.deepStrictEqual(inputs[0], {
        _tag: "Intent",
        line: 2,
        paymentIntentId: a,
        reason: "duplicate, customer asked"
      })
      assert.deepStrictEqual(inputs[1], { _tag: "Intent", line: 3, paymentIntentId: b })
      assert.strictEqual(inputs[2]?._tag, "Invalid")
    })
  )

  it.effect("a missing file is an InputError naming it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(read("/nonexistent/ids.csv"))
      assert.strictEqual(error._tag, "InputError")
      assert.include(error.message, "/nonexistent/ids.csv")
    })
  )

  it.effect("streams: the first inputs arrive without reading the whole file", () =>
    Effect.gen(function* () {
      const lines = Array.from({ length: 50_000 }, () => a).join("\n")
      const path = file(lines)
      const first = yield* Stream.runCollect(Stream.take(Input.fromFile(path), 3))
      assert.strictEqual(Chunk.size(first), 3)
      assert.strictEqual(yield* Input.count(path), 50_000)
    })
  )

  it.effect("a header without a payment_intent_id column fails the file, naming the columns it found", () =>
    Effect.gen(function* () {
      const comma = file(`# export\nid,reason\n${a},x\n`)
      const error = yield* Effect.flip(read(comma))
      assert.strictEqual(error.message, `${comma}: no payment_intent_id column (found: id, reason)`)
      const semicolon = file(`payment_intent_id;reason\n${a};x\n`)
      assert.strictEqual(
        (yield* Effect.flip(Input.check(semicolon))).message,
        `${semicolon}: no payment_intent_id column (found: payment_intent_id, reason); columns are separated by commas, not ";"`
      )
    })
  )

  it.effect("a file without a single ID fails the check; bad lines among good ones are only reported", () =>
    Effect.gen(function* () {
      for (const content of ["", "\n# only a comment\n\n", "not-an-id\nfpi_short\n", "payment_intent_id,reason\n"]) {
        const path = file(content)
        assert.strictEqual((yield* Effect.flip(Input.check(path))).message, `no payment intent IDs in ${path}`)
      }
      // A bad first line of a file of plain IDs is not a header: it has no separator.
      const mixed = file(`not-an-id\n${a}\nstill-not-one\n`)
      yield* Input.check(mixed)
      assert.deepStrictEqual(
        (yield* read(mixed)).map((i) => i._tag),
        ["Invalid", "Intent", "Invalid"]
      )
      const dir = Path.dirname(mixed)
      assert.strictEqual((yield* Effect.flip(Input.check(dir))).message, `Cannot read ${dir}: it is a directory`)
      assert.strictEqual(
        (yield* Effect.flip(Input.checkArgs(["not-an-id"]))).message,
        "no payment intent IDs in the arguments"
      )
      yield* Input.checkArgs([])
      yield* Input.checkArgs(["not-an-id", a])
    })
  )

  it("splits CSV lines with quotes", () => {
    assert.deepStrictEqual(Input.splitCsv('a, "b, c" ,"d ""e"""'), ["a", "b, c", 'd "e"'])
  })
})
