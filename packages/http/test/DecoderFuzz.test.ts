/**
 * Property-based fuzzing (fast-check) of everything the client decodes — bodies, statuses and headers —
 * with mutated realistic responses: the documented cancel response with fields of the wrong type or
 * missing, cut short, huge, deeply nested, odd unicode, invalid UTF-8, an HTML page, garbage headers,
 * and a server that echoes the API key back. Every call ends in a value or a typed `FlexError`, never
 * a defect; the error stays short and never carries the key.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, FastCheck as fc, Layer, Option, Redacted } from "effect"
import * as FlexClient from "../src/FlexClient.js"
import * as FlexError from "../src/FlexError.js"
import { cancelResponse, intentId } from "./support/fixtures.js"

const apiKey = "fsk_test_FUZZ_CANARY_5e2b9d71"

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

// ---------------------------------------------------------------------------------------------------
// Responses, as small recipes (so a counterexample prints), made into a `Response` inside the property

type Value =
  | { readonly _tag: "Json"; readonly value: Json }
  | { readonly _tag: "Huge"; readonly length: number }
  | { readonly _tag: "Deep"; readonly depth: number }
  | { readonly _tag: "Key" }

const valueWith = (deep: boolean): fc.Arbitrary<Value> =>
  fc.oneof(
    fc
      .oneof(
        fc.constantFrom<Json>(
          null,
          true,
          0,
          -1,
          0.5,
          1e308,
          [],
          {},
          "",
          "\u0000",
          "\uD800",
          "\u202E",
          "👩‍👩‍👧",
          "canceled"
        ),
        fc.string({ unit: "binary", maxLength: 30 }),
        fc.array(fc.constantFrom<Json>(1, "a", null), { maxLength: 3 })
      )
      .map((v) => ({ _tag: "Json" as const, value: v })),
    fc.integer({ min: 10_000, max: 3_000_000 }).map((length) => ({ _tag: "Huge" as const, length })),
    deep
      ? fc.integer({ min: 1_000, max: 100_000 }).map((depth) => ({ _tag: "Deep" as const, depth }))
      : fc.integer({ min: 1, max: 200 }).map((depth) => ({ _tag: "Deep" as const, depth })),
    fc.constant({ _tag: "Key" as const })
  )

/** JSON text for a value: deep nesting is written as text (JSON.stringify would overflow on it). */
const text = (v: Value): string => {
  switch (v._tag) {
    case "Json":
      return JSON.stringify(v.value)
    case "Huge":
      return JSON.stringify("A".repeat(v.length))
    case "Deep":
      return `${"[".repeat(v.depth)}1${"]".repeat(v.depth)}`
    case "Key":
      return JSON.stringify(`token ${apiKey} echoed`)
  }
}

/** A field of the realistic response (by index into its paths) set to a value, or removed. */
type Mutation = { readonly at: number; readonly to: Value | "delete" }

const paths = (value: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) => {
  if (prefix.length > 0) out.push(prefix)
  if (Array.isArray(value)) value.forEach((v, i) => void paths(v, [...prefix, i], out))
  else if (value !== null && typeof value === "object")
    for (const k of Object.keys(value)) paths(value[k]!, [...prefix, k], out)
  return out
}

const placeholder = "__FUZZ_VALUE_"

/** The realistic response with mutations; values are spliced in as text. */
const mutatedBody = (base: Json, mutations: ReadonlyArray<Mutation>): string => {
  const root = structuredClone(base) as any
  const splices: Array<string> = []
  for (const m of mutations) {
    const all = paths(root)
    if (all.length === 0) break
    const path = all[m.at % all.length]!
    let parent = root
    for (const key of path.slice(0, -1)) parent = parent[key]
    const last = path[path.length - 1]!
    if (m.to === "delete") {
      if (Array.isArray(parent)) parent.splice(last as number, 1)
      else delete parent[last]
    } else {
      parent[last] = `${placeholder}${splices.length}`
      splices.push(text(m.to))
    }
  }
  let body = JSON.stringify(root)
  splices.forEach((t, i) => {
    body = body.replace(JSON.stringify(`${placeholder}${i}`), () => t)
  })
  return body
}

type Body =
  | { readonly _tag: "Intent"; readonly mutations: ReadonlyArray<Mutation> }
  | { readonly _tag: "List"; readonly mutations: ReadonlyArray<Mutation> }
  | { readonly _tag: "ErrorBody"; readonly mutations: ReadonlyArray<Mutation> }
  | { readonly _tag: "Cut"; readonly at: number }
  | { readonly _tag: "Html" }
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Whole"; readonly value: Value }

const bodyWith = (deep: boolean): fc.Arbitrary<Body> => {
  const value = valueWith(deep)
  const mutations = fc.array(
    fc.record({
      at: fc.nat(),
      to: fc.oneof({ weight: 3, arbitrary: value }, { weight: 2, arbitrary: fc.constant("delete" as const) })
    }),
    { minLength: 0, maxLength: 4 }
  )
  return fc.oneof(
    { weight: 4, arbitrary: mutations.map((ms) => ({ _tag: "Intent" as const, mutations: ms })) },
    { weight: 2, arbitrary: mutations.map((ms) => ({ _tag: "List" as const, mutations: ms })) },
    { weight: 2, arbitrary: mutations.map((ms) => ({ _tag: "ErrorBody" as const, mutations: ms })) },
    { weight: 1, arbitrary: fc.nat().map((at) => ({ _tag: "Cut" as const, at })) },
    { weight: 1, arbitrary: fc.constant({ _tag: "Html" as const }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((bytes) => ({ _tag: "Bytes" as const, bytes })) },
    { weight: 1, arbitrary: fc.constant({ _tag: "Empty" as const }) },
    { weight: 1, arbitrary: value.map((v) => ({ _tag: "Whole" as const, value: v })) }
  )
}

const realistic = (): Json => {
  const envelope = cancelResponse()
  envelope.payment_intent.payment_intent_id = intentId(1)
  return envelope
}

const bodyText = (body: Body): string | Uint8Array => {
  switch (body._tag) {
    case "Intent":
      return mutatedBody(realistic(), body.mutations)
    case "List":
      return mutatedBody({ payment_intents: [(realistic() as any).payment_intent] }, body.mutations)
    case "ErrorBody":
      return mutatedBody(
        { error: { code: "payment_intent_unexpected_state", message: "You cannot cancel this PaymentIntent." } },
        body.mutations
      )
    case "Cut": {
      const full = JSON.stringify(realistic())
      return full.slice(0, body.at % full.length)
    }
    case "Html":
      return "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
    case "Bytes":
      return body.bytes
    case "Empty":
      return ""
    case "Whole":
      return text(body.value)
  }
}

/** Header values: anything a Headers object accepts (Latin-1, no line breaks), some huge, some the key. */
const headerValue = fc.oneof(
  fc.constantFrom(
    "1",
    "0",
    "-1",
    "abc",
    "1e400",
    "NaN",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    apiKey,
    `Bearer ${apiKey}`
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => "9".repeat(n))
)

const responseWith = (deep: boolean) =>
  fc.record({
    status: fc.constantFrom(
      200,
      201,
      202,
      203,
      206,
      400,
      401,
      402,
      403,
      404,
      405,
      409,
      410,
      418,
      422,
      429,
      500,
      501,
      502,
      503,
      504,
      599
    ),
    body: bodyWith(deep),
    contentType: fc.constantFrom("application/json", "text/html; charset=utf-8", "application/octet-stream", undefined),
    retryAfter: fc.option(headerValue, { nil: undefined }),
    requestId: fc.option(headerValue, { nil: undefined }),
    echo: fc.option(headerValue, { nil: undefined })
  })
type ResponseRecipe = ReturnType<typeof responseWith> extends fc.Arbitrary<infer A> ? A : never

const toResponse = (r: ResponseRecipe): Response => {
  const headers = new Headers()
  if (r.contentType !== undefined) headers.set("content-type", r.contentType)
  if (r.retryAfter !== undefined) headers.set("retry-after", r.retryAfter)
  if (r.requestId !== undefined) headers.set("request-id", r.requestId)
  if (r.echo !== undefined) headers.set("x-echo", r.echo)
  return new Response(bodyText(r.body), { status: r.status, headers })
}

// ---------------------------------------------------------------------------------------------------
// The client on a fake transport that answers with the current recipe

let current: ResponseRecipe | undefined
const fakeTransport = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => Effect.sync(() => HttpClientResponse.fromWeb(request, toResponse(current!))))
)

const client = Effect.runSync(
  FlexClient.make({
    apiKey: Redacted.make(apiKey),
    baseUrl: "http://flex.fuzz.invalid",
    maxRetries: 0,
    timeout: Duration.seconds(10)
  }).pipe(Effect.provide(fakeTransport))
)

const calls: Record<"retrieve" | "cancel" | "list", () => Effect.Effect<unknown, FlexError.FlexError>> = {
  retrieve: () => client.paymentIntents.retrieve(intentId(1)),
  cancel: () => client.paymentIntents.cancel(intentId(1), { idempotencyKey: "fuzz-key-1" }),
  list: () => client.paymentIntents.list({ limit: 10 })
}

const tags = new Set<string>(FlexError.tags)

/** What the property asserts about one call's exit. */
const judge = (recipe: ResponseRecipe, exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) {
    assert.isTrue(recipe.status >= 200 && recipe.status < 300, `a ${recipe.status} answered as a success`)
    return
  }
  const cause = exit.cause
  assert.isFalse(Cause.isDie(cause), `a defect instead of a typed error: ${Cause.pretty(cause).slice(0, 600)}`)
  assert.isFalse(Cause.isInterrupted(cause), "interrupted")
  const failure = Cause.failureOption(cause)
  assert.isTrue(Option.isSome(failure), "a typed failure")
  const error = Option.getOrThrow(failure) as FlexError.FlexError
  assert.isTrue(tags.has(error._tag), `a FlexError, got ${String((error as any)?._tag)}`)
  if (recipe.status >= 200 && recipe.status < 300) assert.strictEqual(error._tag, "DecodeError")
  const rendered = [error.message, String(error), JSON.stringify(error)]
  for (const text of rendered) {
    assert.notInclude(text, apiKey, "the API key in an error")
    assert.isAtMost(text.length, 4_000, `an error stays short: ${text.slice(0, 200)}…`)
  }
}

const fuzz = (name: string, call: () => Effect.Effect<unknown, FlexError.FlexError>, deep: boolean) =>
  it.effect(name, () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(responseWith(deep), async (recipe) => {
          current = recipe
          judge(recipe, await Effect.runPromiseExit(call()))
          // The fake transport answers in microtasks: without a macrotask between runs, 300 runs of
          // deep values hold the test worker's thread so long on a loaded machine that vitest fails the
          // file ("Timeout calling onTaskUpdate") although every run passed.
          await new Promise<void>((resolve) => setImmediate(resolve))
        }),
        { numRuns: 300 }
      )
    )
  )

describe("response fuzzing (fast-check): a value or a typed FlexError, never a defect, never the key", () => {
  for (const [name, call] of Object.entries(calls)) {
    fuzz(`${name}: any status, body and headers (values nested up to 200 deep)`, call, false)
    fuzz(`${name}: any status, body and headers, values nested 1,000 to 100,000 deep included`, call, true)
  }

  it.effect("a 2xx with the realistic body and no mutation decodes (the fuzzer's baseline is valid)", () =>
    Effect.gen(function* () {
      current = {
        status: 200,
        body: { _tag: "Intent", mutations: [] },
        contentType: "application/json",
        retryAfter: undefined,
        requestId: undefined,
        echo: undefined
      }
      const intent = (yield* calls.retrieve()) as { payment_intent_id: string }
      assert.strictEqual(intent.payment_intent_id, intentId(1))
    })
  )
})
