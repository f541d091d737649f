/**
 * The HTTP intake API of `flex-worker serve` under bad input (property-based, fast-check): malformed
 * JSON, wrong shapes, unknown fields, bad IDs and request ids, empty and oversized batches, bodies over
 * 1 MiB (with and without Content-Length), missing or wrong bearer tokens, request-id conflicts, mixed
 * in with good requests. Every answer is the documented status with the error envelope (never a 500),
 * exactly the good requests are stored (nothing of a refused body), each of them ends in one outcome,
 * every invariant holds, and neither the API key nor the API token shows anywhere.
 */
import * as Http from "node:http"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect, FastCheck as fc } from "effect"
import * as Cli from "../support/cli.js"
import * as Invariants from "../support/invariants.js"
import {
  CANARY_KEY,
  CANARY_TOKEN,
  intentMix,
  prng,
  secretLeaks,
  summarize,
  unknownIds,
  workDir,
  workerEnv
} from "../support/scenario.js"
import * as Serve from "../support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 180_000)

// ---------------------------------------------------------------------------------------------------
// A raw HTTP client: bodies of any size, with or without Content-Length, and the answer even when the
// server answers before reading everything.

interface Sent {
  readonly status: number
  readonly text: string
  readonly error?: string
}

const send = (
  base: string,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean }
): Promise<Sent> =>
  new Promise((resolve) => {
    const url = new URL(options.path, base)
    const body =
      options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body)
    const headers: Record<string, string> = { ...options.headers }
    if (body !== undefined && !options.chunked) headers["content-length"] = String(body.length)
    const req = Http.request(url, { method: options.method, headers }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (d) => {
        text += d
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      res.on("error", (e) => resolve({ status: res.statusCode ?? 0, text, error: String(e) }))
    })
    req.on("error", (e) => resolve({ status: 0, text: "", error: String(e) }))
    if (body !== undefined) {
      if (options.chunked) {
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024))
      } else req.write(body)
    }
    req.end()
  })

// ---------------------------------------------------------------------------------------------------
// Requests, as recipes; their expected answer is worked out from the README's rules

type Auth = "ok" | "none" | "wrong" | "basic" | "lowercase-scheme" | "double-space" | "token-only" | "key-instead"
type BadId = "short" | "number" | "null" | "fullwidth" | "huge" | "array" | "other-prefix"
interface Item {
  readonly pick: number
  readonly lower: boolean
  readonly badId?: BadId | undefined
  readonly reason?: "ok" | "unicode" | "too-long" | "number" | undefined
  readonly requestId?: "own" | "bad" | "conflict" | undefined
  readonly extra?: boolean | undefined
}
type Body =
  | { readonly _tag: "Single"; readonly item: Item }
  | { readonly _tag: "Batch"; readonly items: ReadonlyArray<Item>; readonly extraTop: boolean }
  | { readonly _tag: "Junk"; readonly text: string }
  | { readonly _tag: "Oversized"; readonly mib: number; readonly chunked: boolean }
  | { readonly _tag: "TooMany" }
  | { readonly _tag: "Route"; readonly method: string; readonly path: string }

const weighted = <A>(pairs: ReadonlyArray<readonly [number, A]>): fc.Arbitrary<A> =>
  fc.oneof(...pairs.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })))

const itemArb: fc.Arbitrary<Item> = fc.record({
  pick: fc.nat(),
  lower: fc.boolean(),
  badId: fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<BadId>("short", "number", "null", "fullwidth", "huge", "array", "other-prefix")
    }
  ),
  reason: weighted<Item["reason"]>([
    [3, undefined],
    [3, "ok"],
    [2, "unicode"],
    [1, "too-long"],
    [1, "number"]
  ]),
  requestId: weighted<Item["requestId"]>([
    [4, undefined],
    [4, "own"],
    [1, "bad"],
    [1, "conflict"]
  ]),
  extra: weighted<Item["extra"]>([
    [15, undefined],
    [1, true]
  ])
})

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 5, arbitrary: itemArb.map((item) => ({ _tag: "Single" as const, item })) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        items: fc.array(itemArb, { minLength: 0, maxLength: 12 }),
        extraTop: weighted([
          [5, false],
          [1, true]
        ])
      })
      .map(({ items, extraTop }) => ({ _tag: "Batch" as const, items, extraTop }))
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          "",
          "{",
          "null",
          "[]",
          "42",
          '"fpi_01J9M9S346Q3D25VT4F5V37E3S"',
          "{'a': 1}",
          '{"cancellations": {}}',
          '{"cancellations": null}',
          "\u0000",
          "\uFEFF{}"
        ),
        fc.string({ unit: "binary", maxLength: 60 })
      )
      .map((text) => ({ _tag: "Junk" as const, text }))
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ mib: fc.constantFrom(1.01, 2, 4), chunked: fc.boolean() })
      .map((r) => ({ _tag: "Oversized" as const, ...r }))
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "TooMany" as const }) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        method: fc.constantFrom("GET", "PUT", "DELETE", "PATCH"),
        path: fc.constantFrom("/cancellations", "/cancellations/", "/nope", "/cancellations/x/y", "/%ZZ")
      })
      .map((r) => ({ _tag: "Route" as const, ...r }))
  }
)

const authArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Auth>("ok") },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Auth>(
      "none",
      "wrong",
      "basic",
      "lowercase-scheme",
      "double-space",
      "token-only",
      "key-instead"
    )
  }
)

const authHeader = (auth: Auth): Record<string, string> => {
  switch (auth) {
    case "ok":
      return { authorization: `Bearer ${CANARY_TOKEN}` }
    case "none":
      return {}
    case "wrong":
      return { authorization: `Bearer ${CANARY_TOKEN.slice(0, -1)}x` }
    case "basic":
      return { authorization: `Basic ${Buffer.from(`user:${CANARY_TOKEN}`).toString("base64")}` }
    case "lowercase-scheme":
      return { authorization: `bearer ${CANARY_TOKEN}X` }
    case "double-space":
      // (A trailing space would be trimmed by HTTP itself: optional whitespace is not part of a value.)
      return { authorization: `Bearer  ${CANARY_TOKEN}` }
    case "token-only":
      return { authorization: CANARY_TOKEN }
    case "key-instead":
      return { authorization: `Bearer ${CANARY_KEY}` }
  }
}

describe("chaos: the HTTP intake API under bad input", () => {
  it.scopedLive(
    "malformed, oversized and unauthenticated requests among good ones: documented answers, only good ones stored, all done, every invariant",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const rng = prng(4040)
        const sandbox = yield* Sandbox.start({ seed: 4040, apiKey: CANARY_KEY, faults: "flaky" })
        const intents = yield* sandbox.createIntents(intentMix(120, rng))
        const pool = [...intents.map((pi) => pi.payment_intent_id), ...unknownIds(4, rng)]
        const work = workDir("serve-fuzz")
        const server = yield* Serve.start(["--store", work.store, "--rate", "50"], {
          ...workerEnv(sandbox),
          FLEX_WORKER_API_TOKEN: CANARY_TOKEN
        })

        // Which request id each intent is submitted under: derived for even ones, explicit for odd ones.
        const explicitId = (index: number) => `ord-${index}.${pool[index]!.slice(-6).toLowerCase()}`
        const ownRequestId = (index: number) => (index % 2 === 1 ? explicitId(index) : undefined)
        const accepted = new Map<string, string>() // request id → intent (lower-cased)
        const acceptedIntents = new Set<string>()
        const responses: Array<{ label: string; text: string }> = []
        const failures: Array<string> = []
        const statuses: Record<string, number> = {}
        /** Request ids in bodies that were refused, with the answer: where a stored-but-refused id came from. */
        const refusedIn = new Map<string, Array<number>>()

        const materialize = (item: Item) => {
          const index = item.pick % pool.length
          const intent = pool[index]!
          let id: unknown = item.lower ? intent.toLowerCase() : intent
          switch (item.badId) {
            case "short":
              id = "fpi_01J9"
              break
            case "number":
              id = 12345
              break
            case "null":
              id = null
              break
            case "fullwidth":
              id = `fpi_０１${intent.slice(6)}`
              break
            case "huge":
              id = `fpi_${"Z".repeat(200_000)}`
              break
            case "array":
              id = [intent]
              break
            case "other-prefix":
              id = `fcus_${intent.slice(4)}`
              break
          }
          let requestId: string | undefined = ownRequestId(index)
          let conflict = false
          if (item.requestId === "bad") requestId = "-bad id!"
          if (item.requestId === "conflict") {
            const other = [...accepted].find(([, i]) => i !== intent.toLowerCase())
            if (other !== undefined) {
              requestId = other[0]
              conflict = true
            }
          }
          const reason =
            item.reason === "ok"
              ? "stale hold"
              : item.reason === "unicode"
                ? "order 88231 — naïve café 🧾 \u202E"
                : item.reason === "too-long"
                  ? "r".repeat(501)
                  : item.reason === "number"
                    ? 7
                    : undefined
          const json: Record<string, unknown> = { payment_intent_id: id }
          if (reason !== undefined) json.reason = reason
          if (requestId !== undefined) json.request_id = requestId
          if (item.extra) json.payment_intent = intent
          const valid =
            item.badId === undefined &&
            (reason === undefined || (typeof reason === "string" && reason.length <= 500)) &&
            item.requestId !== "bad" &&
            !item.extra &&
            // An explicit `cancel_…` id must be the intent's own derived one (a 400 otherwise, before
            // any conflict is looked for): a conflict made by borrowing another intent's derived id is that.
            !(requestId?.startsWith("cancel_") === true && requestId !== `cancel_${intent.toLowerCase()}`)
          return {
            json,
            valid,
            conflict,
            intent: intent.toLowerCase(),
            requestId: requestId ?? `cancel_${intent.toLowerCase()}`
          }
        }

        const step = (auth: Auth, body: Body) =>
          Effect.promise(async () => {
            const headers = { "content-type": "application/json", ...authHeader(auth) }
            let expected: ReadonlyArray<number>
            let sent: Sent
            let items: Array<ReturnType<typeof materialize>> = []
            switch (body._tag) {
              case "Route": {
                sent = await send(server.url, { method: body.method, path: body.path, headers })
                expected = [400, 401, 404, 405]
                break
              }
              case "Oversized": {
                const big = JSON.stringify({
                  payment_intent_id: pool[0],
                  reason: "x".repeat(Math.ceil(body.mib * 1024 * 1024))
                })
                sent = await send(server.url, {
                  method: "POST",
                  path: "/cancellations",
                  headers,
                  body: big,
                  chunked: body.chunked
                })
                expected = auth === "ok" ? [413] : [401, 413]
                break
              }
              case "TooMany": {
                const many = Array.from({ length: 1001 }, (_, i) => ({ payment_intent_id: pool[i % pool.length] }))
                sent = await send(server.url, {
                  method: "POST",
                  path: "/cancellations",
                  headers,
                  body: JSON.stringify({ cancellations: many })
                })
                expected = auth === "ok" ? [400] : [401]
                break
              }
              case "Junk": {
                sent = await send(server.url, { method: "POST", path: "/cancellations", headers, body: body.text })
                expected = auth === "ok" ? [400] : [401]
                break
              }
              case "Single":
              case "Batch": {
                items = body._tag === "Single" ? [materialize(body.item)] : body.items.map(materialize)
                const json =
                  body._tag === "Single"
                    ? items[0]!.json
                    : { cancellations: items.map((i) => i.json), ...(body.extraTop ? { dry_run: true } : {}) }
                const text = JSON.stringify(json)
                sent = await send(server.url, { method: "POST", path: "/cancellations", headers, body: text })
                const valid =
                  items.length > 0 && items.every((i) => i.valid) && !(body._tag === "Batch" && body.extraTop)
                // Within one body the same request id for two intents is a conflict too.
                const seen = new Map<string, string>()
                let conflict = items.some((i) => i.conflict)
                for (const i of items) {
                  const prior = seen.get(i.requestId) ?? accepted.get(i.requestId)
                  if (prior !== undefined && prior !== i.intent) conflict = true
                  seen.set(i.requestId, i.intent)
                }
                expected =
                  auth !== "ok"
                    ? [401]
                    : Buffer.byteLength(text) > 1024 * 1024
                      ? [413]
                      : !valid
                        ? [400]
                        : conflict
                          ? [409]
                          : [202]
                break
              }
            }
            statuses[sent.status] = (statuses[sent.status] ?? 0) + 1
            responses.push({ label: `${body._tag} ${sent.status}`, text: sent.text })
            const label = `${auth} ${body._tag}${body._tag === "Route" ? ` ${body.method} ${body.path}` : ""}: got ${sent.status}, expected ${expected.join("/")}; ${sent.text.slice(0, 200)}${sent.error ? ` (${sent.error})` : ""}`
            if (!expected.includes(sent.status)) failures.push(label)
            if (sent.status >= 400) {
              let envelope: any
              try {
                envelope = JSON.parse(sent.text)
              } catch {}
              if (typeof envelope?.error?.code !== "string" || typeof envelope?.error?.message !== "string") {
                failures.push(`not the error envelope: ${label}`)
              }
            }
            if (sent.status !== 202) {
              for (const i of items) refusedIn.set(i.requestId, [...(refusedIn.get(i.requestId) ?? []), sent.status])
            }
            if (sent.status === 202) {
              const answer = JSON.parse(sent.text)
              const list = Array.isArray(answer.cancellations) ? answer.cancellations : [answer]
              for (const entry of list) {
                accepted.set(entry.request_id, String(entry.payment_intent_id).toLowerCase())
                acceptedIntents.add(String(entry.payment_intent_id).toLowerCase())
              }
            }
          })

        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(authArb, bodyArb, async (auth, body) => {
              await Effect.runPromise(step(auth, body))
            }),
            { numRuns: 250, seed: 4040, endOnFailure: true }
          )
        )
        // Still alive, and healthy.
        const health = yield* Effect.promise(() => send(server.url, { method: "GET", path: "/healthz" }))
        assert.strictEqual(health.status, 200, health.text)

        // Every accepted request ends in one outcome.
        for (let i = 0; i < 600; i++) {
          const rows = yield* Invariants.readStore(work.store)
          if (rows.outcomes.length >= rows.requests.length) break
          yield* Effect.sleep("200 millis")
        }
        const stored = yield* Invariants.readStore(work.store)
        const storedIds = new Set(stored.requests.map((r) => r.request_id))
        const onlyGood = [...storedIds].filter((id) => !accepted.has(id))
        const missing = [...accepted.keys()].filter((id) => !storedIds.has(id))
        const result = yield* Invariants.checkAll(sandbox, work.store, { requested: [...acceptedIntents], rate: 50 })
        const leaks = secretLeaks(
          [
            ...responses,
            { label: "serve stdout", text: server.output().stdout },
            { label: "serve stderr", text: server.output().stderr }
          ],
          [Path.dirname(work.store), work.logs]
        )
        summarize({
          scenario:
            "HTTP intake API: 250 fuzzed requests (malformed, oversized, unauthenticated, conflicts) among good ones",
          requests: accepted.size,
          kills: 0,
          faults: result.faults,
          result,
          seconds: (Date.now() - t0) / 1000,
          extra: `answers ${JSON.stringify(statuses)}, wrong answers ${failures.length}, stored but refused ${onlyGood.length}, accepted but not stored ${missing.length}, secrets leaked ${leaks.length}`,
          pass:
            failures.length === 0 &&
            onlyGood.length === 0 &&
            missing.length === 0 &&
            leaks.length === 0 &&
            result.violations.length === 0
        })
        if (failures.length > 0) console.log(`  wrong answers:\n    ${failures.slice(0, 20).join("\n    ")}`)
        if (onlyGood.length > 0) {
          console.log(
            `  stored although refused:\n    ${onlyGood.map((id) => `${id}: in bodies answered ${refusedIn.get(id)?.join(", ") ?? "?"}`).join("\n    ")}`
          )
        }
        assert.deepStrictEqual(failures, [], "every answer is the documented one")
        assert.deepStrictEqual(onlyGood, [], "nothing of a refused body is stored")
        assert.deepStrictEqual(missing, [], "every 202 is stored")
        assert.deepStrictEqual(leaks, [], "no canary anywhere")
        assert.deepStrictEqual(result.violations, [])
      }),
    600_000
  )

  it.scopedLive("a value nested 3,000 deep, or a 900 KB field: a short 400, not a 500 or a 900 KB answer", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 4041, apiKey: CANARY_KEY })
      const work = workDir("serve-deep")
      const server = yield* Serve.start(["--store", work.store], {
        ...workerEnv(sandbox),
        FLEX_WORKER_API_TOKEN: CANARY_TOKEN
      })
      const headers = { "content-type": "application/json", authorization: `Bearer ${CANARY_TOKEN}` }
      const deep = `${"[".repeat(3000)}1${"]".repeat(3000)}`
      const bodies = {
        "deep payment_intent_id": `{"payment_intent_id": ${deep}}`,
        "deep reason": `{"payment_intent_id": "fpi_01J9M9S346Q3D25VT4F5V37E3S", "reason": ${deep}}`,
        "deep batch": `{"cancellations": ${deep}}`,
        "900 KB reason": JSON.stringify({
          payment_intent_id: "fpi_01J9M9S346Q3D25VT4F5V37E3S",
          reason: "r".repeat(900_000)
        }),
        "900 KB request_id": JSON.stringify({
          payment_intent_id: "fpi_01J9M9S346Q3D25VT4F5V37E3S",
          request_id: "q".repeat(900_000)
        })
      }
      const answers: Array<string> = []
      for (const [name, body] of Object.entries(bodies)) {
        const sent = yield* Effect.promise(() =>
          send(server.url, { method: "POST", path: "/cancellations", headers, body })
        )
        answers.push(`${name}: ${sent.status}, ${sent.text.length} bytes`)
      }
      console.log(`  ${answers.join("; ")}`)
      for (const answer of answers) assert.match(answer, /: 400, \d{1,4} bytes$/, answer)
      assert.deepStrictEqual(Invariants.readOutcomes(work.store), [])
    })
  )
})
