/**
 * Property-based fuzzing of every decoder with mutated realistic responses ("bad input"):
 * the documented cancel response and generated valid values, with 1–4 mutations each — wrong types,
 * missing required fields, huge strings, deep nesting, odd unicode, extreme numbers. Whatever comes in,
 * a decoder answers with a value or a typed parse issue, never a thrown exception (a defect), and the
 * one-line `DecodeFailure` made of it stays short and never carries a secret from the input.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc, type ParseResult, type Schema } from "effect"
import * as DecodeFailure from "../src/DecodeFailure.js"
import * as Decoder from "../src/Decoder.js"
import * as PaymentIntent from "../src/PaymentIntent.js"
import {
  build,
  generatedCases,
  type Json,
  type Mutation,
  materialize,
  mutations,
  type Replacement,
  realistic,
  realisticCases,
  replacement,
  scalars,
  secrets,
  valid
} from "./mutations.js"
import { yieldToEventLoop } from "./support/yield.js"

// ---------------------------------------------------------------------------------------------------
// The properties

const decoders = new Map<Schema.Schema<any, any>, (input: unknown) => Either.Either<any, ParseResult.ParseIssue>>()

/** Decodes the way the client does (`Decoder`, built once per schema); a thrown exception would be a defect. */
const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): Either.Either<A, ParseResult.ParseIssue> => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Decoder.decodeUnknownEither(schema)
    decoders.set(schema, decoder)
  }
  try {
    return decoder(input)
  } catch (error) {
    throw new Error(`the decoder threw (a defect): ${String(error).slice(0, 300)}`)
  }
}

/** The one-line failure of a rejected input (formatting must not throw either). */
const failureLine = <A, I>(schema: Schema.Schema<A, I>, input: unknown): string | undefined => {
  const result = decode(schema, input)
  if (Either.isRight(result)) return undefined
  try {
    const failure = DecodeFailure.fromParseError(result.left)
    assert.isString(failure.path)
    return DecodeFailure.format(failure)
  } catch (error) {
    throw new Error(`formatting the parse issue threw (a defect): ${String(error).slice(0, 300)}`)
  }
}

describe("decoder fuzzing (fast-check): a value or a typed parse issue, never a defect", () => {
  for (const [name, base, schema] of realisticCases) {
    it(`${name} with 1–4 mutations`, async () => {
      await fc.assert(
        fc.asyncProperty(mutations, async (ms) => {
          await yieldToEventLoop()
          decode(schema, build(base(), ms))
        }),
        { numRuns: 200 }
      )
    })
  }

  for (const [name, schema, numRuns] of generatedCases) {
    it(`${name}: generated valid values with 1–4 mutations`, async () => {
      await fc.assert(
        fc.asyncProperty(valid(schema), mutations, async (base, ms) => {
          await yieldToEventLoop()
          decode(schema, build(base, ms))
        }),
        { numRuns }
      )
    })
  }

  it("the scalar decoders (IDs, amounts, timestamps, metadata) on anything at all", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(replacement.map(materialize), fc.anything()), async (input) => {
        await yieldToEventLoop()
        for (const schema of scalars) decode(schema, input)
      }),
      { numRuns: 300 }
    )
  })

  it("unknown fields are ignored: a valid response with extra fields of any shape still decodes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("extra", "x_new_field"), replacement, async (key, value) => {
        await yieldToEventLoop()
        const input = realistic() as any
        input.payment_intent[key] = materialize(value)
        assert.isTrue(Either.isRight(decode(PaymentIntent.Envelope, input)))
      }),
      { numRuns: 50 }
    )
  })
})

/**
 * Every realistic and generated case, as one arbitrary of recipes (small, so a counterexample prints),
 * each made into (decoder, input) inside the property.
 */
type Case =
  | { readonly _tag: "Realistic"; readonly index: number; readonly ms: ReadonlyArray<Mutation> }
  | { readonly _tag: "Generated"; readonly index: number; readonly base: Json; readonly ms: ReadonlyArray<Mutation> }
  | { readonly _tag: "Scalar"; readonly index: number; readonly value: Replacement }

const anyCase: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ _tag: fc.constant("Realistic" as const), index: fc.nat(realisticCases.length - 1), ms: mutations }),
  fc.nat(generatedCases.length - 1).chain((index) =>
    fc.record({
      _tag: fc.constant("Generated" as const),
      index: fc.constant(index),
      base: valid(generatedCases[index]![1]),
      ms: mutations
    })
  ),
  fc.record({ _tag: fc.constant("Scalar" as const), index: fc.nat(scalars.length - 1), value: replacement })
)

const make = (c: Case): readonly [Schema.Schema<any, any>, Json] => {
  switch (c._tag) {
    case "Realistic":
      return [realisticCases[c.index]![2], build(realisticCases[c.index]![1](), c.ms)]
    case "Generated":
      return [generatedCases[c.index]![1], build(c.base, c.ms)]
    case "Scalar":
      return [scalars[c.index]!, materialize(c.value)]
  }
}

// Hundreds of generated inputs each, some thousands of levels deep: slow on a loaded 2-core CI machine.
describe("decoder fuzzing (fast-check): the one-line DecodeFailure made of a parse issue", { timeout: 120_000 }, () => {
  it("is made without throwing (a defect), whatever was rejected", async () => {
    await fc.assert(
      fc.asyncProperty(anyCase, async (c) => {
        await yieldToEventLoop()
        const [schema, input] = make(c)
        failureLine(schema, input)
      }),
      { numRuns: 500 }
    )
  })

  it("never carries a secret of the input (the intent's client_secret)", async () => {
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) => {
        await yieldToEventLoop()
        let line: string | undefined
        try {
          line = failureLine(PaymentIntent.Envelope, build(realistic(), ms))
        } catch {
          return // a formatting defect: the test above reports it
        }
        for (const secret of secrets) assert.notInclude(line ?? "", secret)
      }),
      { numRuns: 300 }
    )
  })

  it('stays short whatever came in (DecodeFailure\'s promise: "values are truncated")', async () => {
    await fc.assert(
      fc.asyncProperty(anyCase, async (c) => {
        await yieldToEventLoop()
        const [schema, input] = make(c)
        let line: string | undefined
        try {
          line = failureLine(schema, input)
        } catch {
          return // a formatting defect: reported above
        }
        assert.isAtMost(line?.length ?? 0, 1_000, `${line?.slice(0, 200)}…`)
      }),
      { numRuns: 300 }
    )
  })
})
