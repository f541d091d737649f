import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import { promisify } from "node:util"
import { assert, describe, it, layer } from "@effect/vitest"
import { ErrorBody, PaymentIntent, PaymentIntentStatus } from "@flex/domain"
import { Effect, Exit, Fiber, Option, Schema, Scope } from "effect"
import * as Call from "../src/Call.js"
import * as FaultProfile from "../src/FaultProfile.js"
import * as Sandbox from "../src/Sandbox.js"
import { failure, request } from "./support/http.js"

const decodeEnvelope = Schema.decodeUnknownSync(PaymentIntent.Envelope)
const decodeList = Schema.decodeUnknownSync(PaymentIntent.ListEnvelope)
const decodeError = Schema.decodeUnknownSync(ErrorBody.ErrorBody)
const decodeCalls = Schema.decodeUnknownSync(Call.CallsEnvelope)
const decodeReleases = Schema.decodeUnknownSync(Sandbox.ReleasesEnvelope)

/** The error code and message of an error response, checked against Flex's error body. */
const errorOf = (body: string) => {
  const { error } = decodeError(JSON.parse(body))
  return { code: error.code, message: error.message ?? "" }
}

const ids = (intents: ReadonlyArray<{ readonly payment_intent_id: string }>) =>
  intents.map((intent) => intent.payment_intent_id)

const execFileAsync = promisify(execFile)

/** Every key of a JSON value, as dotted paths: to compare shapes, not values. */
const shape = (value: unknown, path = ""): Array<string> => {
  if (Array.isArray(value)) return value.length === 0 ? [path] : shape(value[0], `${path}[]`)
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => [
      `${path}.${key}`,
      ...shape(child, `${path}.${key}`).filter((p) => p !== `${path}.${key}`)
    ])
  }
  return [path]
}

describe("Sandbox", () => {
  layer(Sandbox.layer({ seed: 7, intents: 40 }))("the public API", (it) => {
    it.effect("serves GET /v1/payment_intents/{id} as a decodable envelope equal to the stored intent", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
        const id = created!.payment_intent_id
        const res = yield* request(`${sandbox.url}/v1/payment_intents/${id}`, { key: sandbox.apiKey })
        assert.strictEqual(res.status, 200)
        assert.strictEqual(res.headers["content-type"], "application/json")
        assert.match(String(res.headers["request-id"]), /^req_[0-9A-Za-z]{14}$/)
        const intent = decodeEnvelope(JSON.parse(res.body)).payment_intent
        assert.strictEqual(intent.payment_intent_id, id)
        assert.strictEqual(intent.status, "requires_capture")
        assert.strictEqual(intent.amount, 5000)
        assert.strictEqual(intent.amount_capturable, 5000)
        assert.strictEqual(intent.capture_method, "manual")
        assert.deepStrictEqual(Option.some(intent), yield* sandbox.intent(id))
      })
    )

    it.effect("answers in the full nested shape of the seed's cancel response, with realistic values", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const res = yield* request(`${sandbox.url}/v1/payment_intents/${created!.payment_intent_id}/cancel`, {
          method: "POST",
          key: sandbox.apiKey
        })
        const fixture = JSON.parse(
          readFileSync(new URL("../../domain/test/fixtures/cancel-response.json", import.meta.url), "utf8")
        )
        const body = JSON.parse(res.body)
        // Every field of the seed's shape is there, down to the product of the subscription's price.
        const missing = shape(fixture).filter((path) => !shape(body).includes(path))
        assert.deepStrictEqual(missing, [])
        const intent = decodeEnvelope(body).payment_intent
        assert.strictEqual(intent.status, "canceled")
        assert.match(intent.payment_intent_id, /^fpi_[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
        assert.isTrue(typeof intent.customer === "object" && intent.customer !== null)
        const invoice = intent.invoice
        if (typeof invoice !== "object" || invoice === null) throw new Error("invoice not expanded")
        assert.strictEqual(invoice.payment_intent, intent.payment_intent_id)
        assert.strictEqual(invoice.total, intent.amount)
        const subscription = invoice.subscription
        if (typeof subscription !== "object" || subscription === null) throw new Error("subscription not expanded")
        const price = subscription.items[0]!.price
        if (typeof price !== "object" || price === null) throw new Error("price not expanded")
        assert.isTrue(typeof price.product === "object")
        assert.match(body.payment_intent.customer.email, /^[a-z]+\.[a-z]+\d*@example\.com$/)
        assert.match(body.payment_intent.customer.phone, /^\+1\d{10}$/)
      })
    )

    it.effect("lists newest first with a default limit of 10 and no has_more", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        // Dated before every seeded intent: it sorts last, not where it was created.
        const [old] = yield* sandbox.createIntents([{ created_at: "2024-06-01T09:30:00Z" }])
        const everything = yield* request(`${sandbox.url}/v1/payment_intents?limit=100`, { key: sandbox.apiKey })
        const listed = decodeList(JSON.parse(everything.body)).payment_intents
        assert.strictEqual(listed[listed.length - 1]!.payment_intent_id, old!.payment_intent_id)
        const created = listed.map((intent) => intent.created_at.epochMillis)
        assert.deepStrictEqual(
          created,
          [...created].sort((a, b) => b - a)
        )
        const res = yield* request(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })
        assert.strictEqual(res.status, 200)
        const body = JSON.parse(res.body)
        assert.deepStrictEqual(Object.keys(body), ["payment_intents"])
        const page = decodeList(body).payment_intents
        assert.strictEqual(page.length, 10)
        const all = yield* sandbox.intents
        assert.deepStrictEqual(ids(page), ids(all.slice(0, 10)))
        const times = page.map((intent) => intent.created_at.epochMillis)
        assert.deepStrictEqual(
          times,
          [...times].sort((a, b) => b - a)
        )
      })
    )

    it.effect("pages with limit, starting_after and ending_before", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const all = ids(yield* sandbox.intents)
        const list = (query: string) =>
          request(`${sandbox.url}/v1/payment_intents?${query}`, { key: sandbox.apiKey }).pipe(
            Effect.map((res) => ids(decodeList(JSON.parse(res.body)).payment_intents))
          )
        assert.deepStrictEqual(yield* list("limit=3"), all.slice(0, 3))
        assert.deepStrictEqual(yield* list(`limit=3&starting_after=${all[2]}`), all.slice(3, 6))
        assert.deepStrictEqual(yield* list(`limit=2&ending_before=${all[5]}`), all.slice(3, 5))
        assert.deepStrictEqual(yield* list(`limit=100&starting_after=${all[all.length - 2]}`), all.slice(-1))
        assert.strictEqual((yield* list("limit=100")).length, Math.min(100, all.length))
        // Walking every page with starting_after visits each intent once, in order.
        const walked: Array<string> = []
        let cursor: string | undefined
        for (;;) {
          const page = yield* list(`limit=7${cursor === undefined ? "" : `&starting_after=${cursor}`}`)
          walked.push(...page)
          if (page.length < 7) break
          cursor = page[page.length - 1]
        }
        assert.deepStrictEqual(walked, all)
      })
    )

    it.effect("filters by customer and by status", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const all = yield* sandbox.intents
        const customer = PaymentIntent.customerId(all[0]!)!
        const byCustomer = all.filter((intent) => PaymentIntent.customerId(intent) === customer)
        const res = yield* request(`${sandbox.url}/v1/payment_intents?limit=100&customer=${customer}`, {
          key: sandbox.apiKey
        })
        assert.deepStrictEqual(ids(decodeList(JSON.parse(res.body)).payment_intents), ids(byCustomer))
        const succeeded = yield* request(`${sandbox.url}/v1/payment_intents?limit=100&status=succeeded`, {
          key: sandbox.apiKey
        })
        const page = decodeList(JSON.parse(succeeded.body)).payment_intents
        assert.isAbove(page.length, 0)
        assert.deepStrictEqual(ids(page), ids(all.filter((intent) => intent.status === "succeeded")))
      })
    )

    it.effect("rejects a limit outside 1..100, a bad status and an unknown cursor with 400, naming the parameter", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        for (const limit of ["0", "101", "abc", "-1", "2.5", ""]) {
          const res = yield* request(`${sandbox.url}/v1/payment_intents?limit=${limit}`, { key: sandbox.apiKey })
          assert.strictEqual(res.status, 400, `limit=${limit}`)
          const error = errorOf(res.body)
          assert.strictEqual(error.code, "invalid_request")
          assert.include(error.message, "limit")
        }
        const status = yield* request(`${sandbox.url}/v1/payment_intents?status=paid`, { key: sandbox.apiKey })
        assert.strictEqual(status.status, 400)
        assert.include(errorOf(status.body).message, "status")
        const cursor = yield* request(
          `${sandbox.url}/v1/payment_intents?starting_after=fpi_01ARZ3NDEKTSV4RRFFQ69G5FAV`,
          { key: sandbox.apiKey }
        )
        assert.strictEqual(cursor.status, 400)
        assert.strictEqual(errorOf(cursor.body).code, "resource_missing")
        assert.include(errorOf(cursor.body).message, "starting_after")
      })
    )

    it.effect("cancels every cancelable status, zeroes amount_capturable and records the release", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const cancelable = PaymentIntentStatus.statuses.filter(
          (status) => PaymentIntentStatus.cancelability(status)._tag === "Cancelable"
        )
        assert.deepStrictEqual([...cancelable].sort(), [
          "requires_action",
          "requires_capture",
          "requires_confirmation",
          "requires_payment_method"
        ])
        const created = yield* sandbox.createIntents(cancelable.map((status) => ({ status, amount: 7300 })))
        for (const before of created) {
          const res = yield* request(`${sandbox.url}/v1/payment_intents/${before.payment_intent_id}/cancel`, {
            method: "POST",
            key: sandbox.apiKey
          })
          assert.strictEqual(res.status, 200, before.status)
          const after = decodeEnvelope(JSON.parse(res.body)).payment_intent
          assert.strictEqual(after.status, "canceled")
          assert.strictEqual(after.amount_capturable, 0)
          assert.strictEqual(after.amount, 7300)
          const released = Option.getOrThrow(yield* sandbox.released(before.payment_intent_id))
          assert.strictEqual(released, before.status === "requires_capture" ? 7300 : 0)
          const stored = Option.getOrThrow(yield* sandbox.intent(before.payment_intent_id))
          assert.strictEqual(stored.status, "canceled")
        }
        const res = yield* request(`${sandbox.url}/_sandbox/releases`, { key: sandbox.apiKey })
        const { releases, total } = decodeReleases(JSON.parse(res.body))
        const mine = releases.filter((release) => ids(created).includes(release.payment_intent_id))
        assert.strictEqual(mine.length, 4)
        assert.strictEqual(
          total,
          releases.reduce((sum, release) => sum + release.amount, 0)
        )
        assert.deepStrictEqual(
          (yield* sandbox.releases).map((release) => release.payment_intent_id),
          releases.map((release) => release.payment_intent_id)
        )
      })
    )

    it.effect("answers 400 payment_intent_unexpected_state for canceled, succeeded and processing intents", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const created = yield* sandbox.createIntents([
          { status: "canceled" },
          { status: "succeeded" },
          { status: "processing" }
        ])
        const messages: Array<string> = []
        for (const intent of created) {
          const res = yield* request(`${sandbox.url}/v1/payment_intents/${intent.payment_intent_id}/cancel`, {
            method: "POST",
            key: sandbox.apiKey
          })
          assert.strictEqual(res.status, 400)
          const error = errorOf(res.body)
          assert.strictEqual(error.code, "payment_intent_unexpected_state")
          messages.push(error.message)
          // Nothing changed and nothing was released.
          assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(intent.payment_intent_id)).status, intent.status)
          assert.isTrue(Option.isNone(yield* sandbox.released(intent.payment_intent_id)))
        }
        assert.include(messages[0], "status of canceled")
        assert.include(messages[1], "refund")
        assert.include(messages[2], "processing")
        assert.include(messages[2], "try again")
      })
    )

    it.effect("answers 404 resource_missing for an unknown or malformed ID, on retrieve and cancel", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        for (const id of ["fpi_01ARZ3NDEKTSV4RRFFQ69G5FAV", "fpi_nope", "pi_123", "fpi_01ARZ3NDEKTSV4RRFFQ69G5FA"]) {
          for (const [method, path] of [
            ["GET", `/v1/payment_intents/${id}`],
            ["POST", `/v1/payment_intents/${id}/cancel`]
          ] as const) {
            const res = yield* request(`${sandbox.url}${path}`, { method, key: sandbox.apiKey })
            assert.strictEqual(res.status, 404, `${method} ${path}`)
            assert.strictEqual(errorOf(res.body).code, "resource_missing")
          }
        }
        const other = yield* request(`${sandbox.url}/v1/customers`, { key: sandbox.apiKey })
        assert.strictEqual(other.status, 404)
      })
    )

    it.effect("finds an intent by its ID in either letter case", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{}])
        const res = yield* request(`${sandbox.url}/v1/payment_intents/${created!.payment_intent_id.toLowerCase()}`, {
          key: sandbox.apiKey
        })
        assert.strictEqual(res.status, 200)
      })
    )

    it.effect("answers 401 authentication_required without a key, with a wrong key, with a live key", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const path = `/v1/payment_intents/${created!.payment_intent_id}/cancel`
        for (const headers of [
          {},
          { authorization: "Bearer fsk_live_abcdef" },
          { authorization: "Bearer sk_test_abcdef" },
          { authorization: "Basic fsk_test_abcdef" },
          { authorization: "Bearer fsk_test_" }
        ]) {
          const res = yield* request(`${sandbox.url}${path}`, { method: "POST", headers })
          assert.strictEqual(res.status, 401)
          const error = errorOf(res.body)
          assert.strictEqual(error.code, "authentication_required")
          assert.notInclude(error.message, "abcdef")
        }
        // Nothing happened to the intent, and the call log never holds a key.
        assert.strictEqual(
          Option.getOrThrow(yield* sandbox.intent(created!.payment_intent_id)).status,
          "requires_capture"
        )
        const calls = yield* sandbox.calls
        assert.notInclude(JSON.stringify(calls), "abcdef")
        assert.notInclude(JSON.stringify(calls), sandbox.apiKey)
        // Any fsk_test_ key is accepted when none is pinned.
        const other = yield* request(`${sandbox.url}${path}`, { method: "POST", key: "fsk_test_someone_else" })
        assert.strictEqual(other.status, 200)
      })
    )

    it.effect("replays the first response for the same Idempotency-Key, status and body exactly", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 4200 }])
        const url = `${sandbox.url}/v1/payment_intents/${created!.payment_intent_id}/cancel`
        const key = `key-${created!.payment_intent_id}`
        const first = yield* request(url, { method: "POST", key: sandbox.apiKey, headers: { "idempotency-key": key } })
        const second = yield* request(url, { method: "POST", key: sandbox.apiKey, headers: { "idempotency-key": key } })
        assert.strictEqual(first.status, 200)
        assert.strictEqual(second.status, 200)
        assert.strictEqual(second.body, first.body)
        assert.strictEqual(second.headers["idempotent-replayed"], "true")
        assert.isUndefined(first.headers["idempotent-replayed"])
        assert.notStrictEqual(second.headers["request-id"], first.headers["request-id"])
        // Without the key the same request is executed again: the intent is canceled by now.
        const third = yield* request(url, { method: "POST", key: sandbox.apiKey })
        assert.strictEqual(third.status, 400)
        assert.strictEqual(errorOf(third.body).code, "payment_intent_unexpected_state")
        // An error is replayed too, once the endpoint ran.
        const errorKey = `${key}-again`
        const error1 = yield* request(url, {
          method: "POST",
          key: sandbox.apiKey,
          headers: { "idempotency-key": errorKey }
        })
        const error2 = yield* request(url, {
          method: "POST",
          key: sandbox.apiKey,
          headers: { "idempotency-key": errorKey }
        })
        assert.strictEqual(error1.status, 400)
        assert.strictEqual(error2.status, 400)
        assert.strictEqual(error2.body, error1.body)
        assert.strictEqual(error2.headers["idempotent-replayed"], "true")
        assert.strictEqual(Option.getOrThrow(yield* sandbox.released(created!.payment_intent_id)), 4200)
      })
    )

    it.effect("answers 400 idempotency_error when a key is reused for another request", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [a, b] = yield* sandbox.createIntents([{ status: "requires_capture" }, { status: "requires_capture" }])
        const key = `shared-${a!.payment_intent_id}`
        const headers = { "idempotency-key": key }
        const first = yield* request(`${sandbox.url}/v1/payment_intents/${a!.payment_intent_id}/cancel`, {
          method: "POST",
          key: sandbox.apiKey,
          headers
        })
        assert.strictEqual(first.status, 200)
        const reused = yield* request(`${sandbox.url}/v1/payment_intents/${b!.payment_intent_id}/cancel`, {
          method: "POST",
          key: sandbox.apiKey,
          headers
        })
        assert.strictEqual(reused.status, 400)
        assert.strictEqual(errorOf(reused.body).code, "idempotency_error")
        assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(b!.payment_intent_id)).status, "requires_capture")
        // A key on a GET is ignored, as Stripe ignores it.
        const get = yield* request(`${sandbox.url}/v1/payment_intents/${b!.payment_intent_id}`, {
          key: sandbox.apiKey,
          headers
        })
        assert.strictEqual(get.status, 200)
      })
    )

    it.effect("runs the seed's own curl command against the sandbox, and its output decodes", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const seed = readFileSync(new URL("./fixtures/cancel-curl.txt", import.meta.url), "utf8")
        const command = seed
          .replace("https://api.withflex.com", sandbox.url)
          .replace("{id}", created!.payment_intent_id)
          .replace("<token>", sandbox.apiKey)
        // The seed's curl, split into arguments the way a shell would.
        const args = command
          .replace(/\\\n/g, " ")
          .trim()
          .match(/'[^']*'|\S+/g)!
          .map((arg) => arg.replace(/^'|'$/g, ""))
        assert.strictEqual(args[0], "curl")
        const { stdout } = yield* Effect.promise(() => execFileAsync(args[0]!, ["--silent", ...args.slice(1)]))
        const intent = decodeEnvelope(JSON.parse(stdout)).payment_intent
        assert.strictEqual(intent.payment_intent_id, created!.payment_intent_id)
        assert.strictEqual(intent.status, "canceled")
      })
    )

    it.effect("adds a request-id header to every answer, errors included", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const answers = [
          yield* request(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey }),
          yield* request(`${sandbox.url}/v1/payment_intents`),
          yield* request(`${sandbox.url}/v1/payment_intents/fpi_nope`, { key: sandbox.apiKey }),
          yield* request(`${sandbox.url}/v1/payment_intents?limit=0`, { key: sandbox.apiKey })
        ]
        for (const res of answers) assert.match(String(res.headers["request-id"]), /^req_/)
        assert.strictEqual(new Set(answers.map((res) => res.headers["request-id"])).size, answers.length)
      })
    )
  })

  layer(Sandbox.layer({ seed: 3 }))("the admin API", (it) => {
    it.effect("creates intents with POST /_sandbox/payment_intents (201) and lists them", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const res = yield* request(`${sandbox.url}/_sandbox/payment_intents`, {
          method: "POST",
          key: sandbox.apiKey,
          body: {
            payment_intents: [
              { status: "requires_capture", amount: 5000, capture_method: "manual", metadata: { order_id: "A-1" } },
              { status: "succeeded", amount: 1200 }
            ]
          }
        })
        assert.strictEqual(res.status, 201)
        const created = decodeList(JSON.parse(res.body)).payment_intents
        assert.deepStrictEqual(
          created.map(
            (intent): Array<unknown> => [intent.status, intent.amount, intent.amount_capturable, intent.amount_received]
          ),
          [
            ["requires_capture", 5000, 5000, 0],
            ["succeeded", 1200, 0, 1200]
          ]
        )
        assert.deepStrictEqual(created[0]!.metadata, { order_id: "A-1" })
        const snapshot = yield* request(`${sandbox.url}/_sandbox/payment_intents`, { key: sandbox.apiKey })
        const all = decodeList(JSON.parse(snapshot.body)).payment_intents
        assert.includeMembers(ids(all), ids(created))
        assert.deepStrictEqual(ids(all), ids(yield* sandbox.intents))
      })
    )

    it.effect("rejects an invalid spec with 400 naming the field, and creates none of the batch", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const before = (yield* sandbox.intents).length
        const res = yield* request(`${sandbox.url}/_sandbox/payment_intents`, {
          method: "POST",
          key: sandbox.apiKey,
          body: { payment_intents: [{ status: "requires_capture" }, { status: "on_hold" }] }
        })
        assert.strictEqual(res.status, 400)
        assert.include(errorOf(res.body).message, "payment_intents[1].status")
        const negative = yield* sandbox.createIntents([{ amount: -5 }]).pipe(Effect.flip)
        assert.strictEqual(negative.reason, "InvalidIntent")
        assert.include(negative.message, "amount")
        const notJson = yield* request(`${sandbox.url}/_sandbox/payment_intents`, {
          method: "POST",
          key: sandbox.apiKey,
          body: "{"
        })
        assert.strictEqual(notJson.status, 400)
        assert.strictEqual((yield* sandbox.intents).length, before)
      })
    )

    it.effect("expands a seeded customer given by ID and keeps overridden fields", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const [first] = yield* sandbox.createIntents([{}])
        const customer = PaymentIntent.customerId(first!)!
        const [intent] = yield* sandbox.createIntents([
          { customer, created_at: "2025-03-01T10:00:00Z", transfer_group: "group_custom", test_mode: true }
        ])
        assert.isTrue(typeof intent!.customer === "object")
        assert.strictEqual(PaymentIntent.customerId(intent!), customer)
        assert.strictEqual(intent!.transfer_group, "group_custom")
        assert.strictEqual(intent!.created_at.epochMillis, Date.UTC(2025, 2, 1, 10))
        const duplicate = yield* sandbox
          .createIntents([{ payment_intent_id: intent!.payment_intent_id }])
          .pipe(Effect.flip)
        assert.include(duplicate.message, "already exists")
      })
    )

    it.effect("serves the call log in order, without admin calls and without keys", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        yield* sandbox.reset
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const id = created!.payment_intent_id
        yield* request(`${sandbox.url}/v1/payment_intents/${id}`, { key: sandbox.apiKey })
        yield* request(`${sandbox.url}/v1/payment_intents/${id}/cancel`, {
          method: "POST",
          key: sandbox.apiKey,
          headers: { "idempotency-key": "log-1" }
        })
        yield* request(`${sandbox.url}/v1/payment_intents?limit=2`)
        const res = yield* request(`${sandbox.url}/_sandbox/calls`, { key: sandbox.apiKey })
        const { calls } = decodeCalls(JSON.parse(res.body))
        assert.deepStrictEqual(
          calls.map(({ method, path, status, idempotency_key, fault }) => ({
            method,
            path,
            status,
            idempotency_key,
            fault
          })),
          [
            { method: "GET", path: `/v1/payment_intents/${id}`, status: 200, idempotency_key: null, fault: null },
            {
              method: "POST",
              path: `/v1/payment_intents/${id}/cancel`,
              status: 200,
              idempotency_key: "log-1",
              fault: null
            },
            { method: "GET", path: "/v1/payment_intents?limit=2", status: 401, idempotency_key: null, fault: null }
          ]
        )
        for (const call of calls) assert.isFalse(Number.isNaN(Date.parse(call.at)))
        assert.deepStrictEqual(calls, yield* sandbox.calls)
        assert.notInclude(res.body, sandbox.apiKey)
      })
    )

    it.effect("reads and replaces the fault profile with GET and PUT /_sandbox/faults", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        const initial = yield* request(`${sandbox.url}/_sandbox/faults`, { key: sandbox.apiKey })
        assert.deepStrictEqual(JSON.parse(initial.body), {})
        const profile = { default: { error_rate: 0.5 }, cancel: { reset_rate: 0.25 } }
        const put = yield* request(`${sandbox.url}/_sandbox/faults`, {
          method: "PUT",
          key: sandbox.apiKey,
          body: profile
        })
        assert.strictEqual(put.status, 200)
        assert.deepStrictEqual(yield* sandbox.faults, profile)
        const read = yield* request(`${sandbox.url}/_sandbox/faults`, { key: sandbox.apiKey })
        assert.deepStrictEqual(JSON.parse(read.body), profile)
        const preset = yield* request(`${sandbox.url}/_sandbox/faults`, {
          method: "PUT",
          key: sandbox.apiKey,
          body: "none"
        })
        assert.strictEqual(preset.status, 200)
        assert.deepStrictEqual(yield* sandbox.faults, {})
        const bad = yield* request(`${sandbox.url}/_sandbox/faults`, {
          method: "PUT",
          key: sandbox.apiKey,
          body: { default: { error_rate: 2 } }
        })
        assert.strictEqual(bad.status, 400)
        assert.include(errorOf(bad.body).message, "error_rate")
      })
    )

    it.effect("resets to the seeded state with POST /_sandbox/reset", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        yield* sandbox.reset
        const seeded = ids(yield* sandbox.intents)
        const [created] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        yield* request(`${sandbox.url}/v1/payment_intents/${created!.payment_intent_id}/cancel`, {
          method: "POST",
          key: sandbox.apiKey,
          headers: { "idempotency-key": "before-reset" }
        })
        yield* sandbox.setFaults("storm")
        const res = yield* request(`${sandbox.url}/_sandbox/reset`, { method: "POST", key: sandbox.apiKey })
        assert.strictEqual(res.status, 200)
        assert.deepStrictEqual(ids(yield* sandbox.intents), seeded)
        assert.deepStrictEqual(yield* sandbox.calls, [])
        assert.deepStrictEqual(yield* sandbox.releases, [])
        assert.deepStrictEqual(yield* sandbox.faults, {})
        // The same creation after a reset gives the same intent: the generator restarted too.
        const [again] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        assert.strictEqual(again!.payment_intent_id, created!.payment_intent_id)
      })
    )

    it.effect("holds requests unanswered until released, then answers them in arrival order", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        yield* sandbox.reset
        const created = yield* sandbox.createIntents([{ status: "requires_capture" }, { status: "requires_capture" }])
        const held = yield* request(`${sandbox.url}/_sandbox/hold`, { method: "POST", key: sandbox.apiKey })
        assert.deepStrictEqual(JSON.parse(held.body), { holding: true, held: 0 })
        const answers = yield* Effect.forkAll(
          ids(created).map((id) =>
            request(`${sandbox.url}/v1/payment_intents/${id}/cancel`, { method: "POST", key: sandbox.apiKey })
          )
        )
        // Real time (the test clock would never move): the requests are on their way over the socket.
        while ((yield* sandbox.held) < 2) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
        // Received and logged, not answered, and the intents untouched.
        assert.deepStrictEqual(
          (yield* sandbox.calls).map((call) => call.status),
          [null, null]
        )
        for (const id of ids(created)) {
          assert.strictEqual(Option.getOrThrow(yield* sandbox.intent(id)).status, "requires_capture")
        }
        const released = yield* request(`${sandbox.url}/_sandbox/release`, { method: "POST", key: sandbox.apiKey })
        assert.deepStrictEqual(JSON.parse(released.body), { holding: false, released: 2 })
        const statuses = (yield* Fiber.join(answers)).map((res) => res.status)
        assert.deepStrictEqual(statuses, [200, 200])
        assert.strictEqual(yield* sandbox.held, 0)
        // No longer holding: the next request is answered at once.
        const after = yield* request(`${sandbox.url}/v1/payment_intents/${ids(created)[0]}`, { key: sandbox.apiKey })
        assert.strictEqual(after.status, 200)
        yield* sandbox.reset
      })
    )

    it.effect("requires the key on the admin API and answers 404 to unknown admin paths", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.Sandbox
        for (const [method, path] of [
          ["GET", "/_sandbox/calls"],
          ["POST", "/_sandbox/payment_intents"],
          ["GET", "/_sandbox/faults"],
          ["PUT", "/_sandbox/faults"],
          ["POST", "/_sandbox/reset"],
          ["POST", "/_sandbox/hold"],
          ["POST", "/_sandbox/release"]
        ] as const) {
          const res = yield* request(`${sandbox.url}${path}`, { method, body: {} })
          assert.strictEqual(res.status, 401, `${method} ${path}`)
        }
        const unknown = yield* request(`${sandbox.url}/_sandbox/nothing`, { key: sandbox.apiKey })
        assert.strictEqual(unknown.status, 404)
        assert.deepStrictEqual(yield* sandbox.calls.pipe(Effect.map((calls) => calls.length)), 0)
      })
    )
  })

  describe("start", () => {
    it.scoped("seeds a mix of every status, identical for the same seed and different for another", () =>
      Effect.gen(function* () {
        const a = yield* Sandbox.start({ seed: 11, intents: 20 })
        const b = yield* Sandbox.start({ seed: 11, intents: 20 })
        const c = yield* Sandbox.start({ seed: 12, intents: 20 })
        const intents = yield* a.intents
        assert.strictEqual(intents.length, 20)
        assert.deepStrictEqual(new Set(intents.map((intent) => intent.status)), new Set(PaymentIntentStatus.statuses))
        for (const intent of intents) {
          if (intent.status === "requires_capture") assert.strictEqual(intent.amount_capturable, intent.amount)
          else assert.strictEqual(intent.amount_capturable, 0)
        }
        const body = (sandbox: Sandbox.SandboxHandle) =>
          request(`${sandbox.url}/v1/payment_intents?limit=100`, { key: sandbox.apiKey }).pipe(
            Effect.map((r) => r.body)
          )
        assert.strictEqual(yield* body(a), yield* body(b))
        assert.notStrictEqual(yield* body(a), yield* body(c))
      })
    )

    it.scoped("accepts only the pinned key when apiKey is given", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ apiKey: "fsk_test_pinned_1", intents: 1 })
        assert.strictEqual(sandbox.apiKey, "fsk_test_pinned_1")
        const ok = yield* request(`${sandbox.url}/v1/payment_intents`, { key: "fsk_test_pinned_1" })
        assert.strictEqual(ok.status, 200)
        const other = yield* request(`${sandbox.url}/v1/payment_intents`, { key: "fsk_test_sandbox" })
        assert.strictEqual(other.status, 401)
      })
    )

    it.effect("fails with InvalidOptions on bad options and ListenFailed on a busy port", () =>
      Effect.gen(function* () {
        const bad = yield* Sandbox.start({ port: 70000 }).pipe(Effect.scoped, Effect.flip)
        assert.strictEqual(bad.reason, "InvalidOptions")
        const faults = yield* Sandbox.start({ faults: { default: { reset_rate: 0.8, hang_rate: 0.8 } } }).pipe(
          Effect.scoped,
          Effect.flip
        )
        assert.strictEqual(faults.reason, "InvalidOptions")
        const preset = yield* Sandbox.start({ faults: "hurricane" as never }).pipe(Effect.scoped, Effect.flip)
        assert.strictEqual(preset.reason, "InvalidOptions")
        const busy = yield* Effect.acquireRelease(
          Effect.promise(
            () =>
              new Promise<Net.Server>((resolve) => {
                const server = Net.createServer()
                server.listen(0, "127.0.0.1", () => resolve(server))
              })
          ),
          (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
        ).pipe(
          Effect.flatMap((server) =>
            Sandbox.start({ port: (server.address() as Net.AddressInfo).port }).pipe(Effect.flip)
          ),
          Effect.scoped
        )
        assert.strictEqual(busy.reason, "ListenFailed")
        assert.include(busy.message, "EADDRINUSE")
      })
    )

    it.effect("stops listening when its scope closes", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const sandbox = yield* Sandbox.start().pipe(Scope.extend(scope))
        const before = yield* request(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })
        assert.strictEqual(before.status, 200)
        yield* Scope.close(scope, Exit.void)
        const after = yield* failure(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })
        assert.strictEqual(after.code, "ECONNREFUSED")
      })
    )

    it.effect("fails setFaults with an invalid profile and keeps the old one", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ faults: "flaky" })
        const error = yield* sandbox.setFaults({ default: { error_rate: -1 } }).pipe(Effect.flip)
        assert.strictEqual(error.reason, "InvalidFaultProfile")
        assert.deepStrictEqual(yield* sandbox.faults, FaultProfile.presets.flaky)
      }).pipe(Effect.scoped)
    )
  })
})
