import { assert, describe, it } from "@effect/vitest"
import type { PaymentIntent } from "@flex/domain"
import { type RunningSandbox, startSandbox } from "@flex/sandbox"
import { Flex, FlexError } from "../src/PromiseClient.js"

// The promise face against the sandbox over a real socket, written as a service without Effect would
// write it: async functions, try/catch, instanceof. Nothing is imported from Effect.

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

const withSandbox = async (
  options: Parameters<typeof startSandbox>[0],
  test: (sandbox: RunningSandbox) => Promise<void>
): Promise<void> => {
  const sandbox = await startSandbox(options)
  try {
    await test(sandbox)
  } finally {
    await sandbox.close()
  }
}

describe("Flex (the promise face)", () => {
  it("cancels with the caller's idempotency key, retrieves and lists, in the wire form", () =>
    withSandbox({ seed: 5 }, async (sandbox) => {
      const flex = new Flex(sandbox.clientOptions)
      try {
        const [hold] = await sandbox.createIntents([{ status: "requires_capture", amount: 4200 }])
        const id = hold!.payment_intent_id
        const canceled: PaymentIntent.Json = await flex.paymentIntents.cancel(id, { idempotencyKey: "cancel-WC-1" })
        assert.strictEqual(canceled.status, "canceled")
        assert.strictEqual(canceled.amount_capturable, 0)
        // Plain JSON: the same object the sandbox stores, timestamps as strings, the secret in clear.
        assert.deepStrictEqual(canceled, await sandbox.intent(id))
        assert.strictEqual(typeof canceled.created_at, "string")
        assert.strictEqual(typeof canceled.client_secret, "string")
        assert.strictEqual(await sandbox.released(id), 4200)
        const [call] = await sandbox.calls()
        assert.strictEqual(call?.idempotency_key, "cancel-WC-1")

        const read = await flex.paymentIntents.retrieve(id)
        assert.deepStrictEqual(read, canceled)
        const page = await flex.paymentIntents.list({ limit: 10 })
        assert.deepStrictEqual(
          page.map((intent) => intent.payment_intent_id),
          [id]
        )
      } finally {
        await flex.close()
      }
    }))

  it("listAll is an async iterator over every page; leaving the loop stops the paging", () =>
    withSandbox({ seed: 6, intents: 23 }, async (sandbox) => {
      const flex = new Flex(sandbox.clientOptions)
      try {
        const seen: Array<string> = []
        for await (const intent of flex.paymentIntents.listAll({ limit: 5 })) seen.push(intent.payment_intent_id)
        assert.deepStrictEqual(
          seen,
          (await sandbox.intents()).map((intent) => intent.payment_intent_id)
        )
        assert.strictEqual((await sandbox.calls()).length, 5) // 5 + 5 + 5 + 5 + 3

        await sandbox.reset()
        let taken = 0
        for await (const _ of flex.paymentIntents.listAll({ limit: 5 })) {
          if (++taken === 7) break
        }
        assert.strictEqual(taken, 7)
        // Two pages were needed for 7 intents; a third is at most being fetched ahead, never a fourth.
        const pages = (await sandbox.calls()).length
        assert.isTrue(pages >= 2 && pages <= 3, `${pages} pages`)
      } finally {
        await flex.close()
      }
    }))

  it("rejects with the FlexError classes themselves: status, code, requestId readable", () =>
    withSandbox({ seed: 7, apiKey: "fsk_test_pinned_key" }, async (sandbox) => {
      const flex = new Flex({ ...sandbox.clientOptions, maxRetries: 0 })
      const wrongKey = new Flex({ baseUrl: sandbox.url, apiKey: "fsk_test_canary_f00dfeed", maxRetries: 0 })
      try {
        const missing = await rejection(flex.paymentIntents.retrieve("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
        assert.instanceOf(missing, FlexError.NotFoundError)
        assert.instanceOf(missing, Error)
        const notFound = missing as FlexError.NotFoundError
        assert.strictEqual(notFound._tag, "NotFoundError")
        assert.strictEqual(notFound.status, 404)
        assert.strictEqual(notFound.code, "resource_missing")
        assert.match(notFound.requestId ?? "", /^req_/)
        assert.match(notFound.message, /GET \/v1\/payment_intents\/fpi_01J9M9S346Q3D25VT4F5V37E3S -> 404/)

        const [done] = await sandbox.createIntents([{ status: "succeeded" }])
        const refused = await rejection(flex.paymentIntents.cancel(done!.payment_intent_id))
        assert.instanceOf(refused, FlexError.InvalidRequestError)
        assert.strictEqual((refused as FlexError.InvalidRequestError).status, 400)
        assert.strictEqual((refused as FlexError.InvalidRequestError).code, "payment_intent_unexpected_state")

        const denied = await rejection(wrongKey.paymentIntents.list())
        assert.instanceOf(denied, FlexError.AuthenticationError)
        assert.strictEqual((denied as FlexError.AuthenticationError).status, 401)
        assert.notInclude(String((denied as Error).message), "canary")
        assert.notInclude(JSON.stringify(denied), "canary")

        // listAll's loop rejects with the error too.
        const loop = async () => {
          for await (const _ of wrongKey.paymentIntents.listAll()) return
        }
        assert.instanceOf(await rejection(loop()), FlexError.AuthenticationError)

        // A malformed ID is refused before any request.
        const calls = (await sandbox.calls()).length
        const malformed = await rejection(flex.paymentIntents.cancel("../admin"))
        assert.instanceOf(malformed, FlexError.InvalidRequestError)
        assert.strictEqual((malformed as FlexError.InvalidRequestError).status, 0)
        assert.strictEqual((await sandbox.calls()).length, calls)
      } finally {
        await flex.close()
        await wrongKey.close()
      }
    }))

  it("retries under the client's policy with one key per call, and rejects with the last error", () =>
    withSandbox({ seed: 8 }, async (sandbox) => {
      const flex = new Flex({ ...sandbox.clientOptions, maxRetries: 1 })
      try {
        const [hold] = await sandbox.createIntents([{ status: "requires_capture" }])
        await sandbox.setFaults({ default: { error_rate: 1, error_statuses: [503] } })
        const error = await rejection(flex.paymentIntents.cancel(hold!.payment_intent_id))
        assert.instanceOf(error, FlexError.ServerError)
        assert.strictEqual((error as FlexError.ServerError).status, 503)
        const calls = await sandbox.calls()
        assert.strictEqual(calls.length, 2)
        assert.strictEqual(new Set(calls.map((c) => c.idempotency_key)).size, 1)
        assert.match(calls[0]!.idempotency_key ?? "", /^flex-ts-retry-/)

        await sandbox.setFaults("none")
        const canceled = await flex.paymentIntents.cancel(hold!.payment_intent_id, { maxRetries: 0 })
        assert.strictEqual(canceled.status, "canceled")
      } finally {
        await flex.close()
      }
    }))

  it("times out per attempt, and an AbortSignal aborts the call with its reason", () =>
    withSandbox({ seed: 9, faults: { default: { hang_rate: 1 } } }, async (sandbox) => {
      const flex = new Flex({ ...sandbox.clientOptions, timeout: 150, maxRetries: 0 })
      try {
        const id = "fpi_01J9M9S346Q3D25VT4F5V37E3S"
        const timedOut = await rejection(flex.paymentIntents.retrieve(id))
        assert.instanceOf(timedOut, FlexError.TimeoutError)
        assert.strictEqual((timedOut as FlexError.TimeoutError).timeout, 150)

        const controller = new AbortController()
        const started = Date.now()
        const pending = flex.paymentIntents.retrieve(id, { timeout: 10_000, signal: controller.signal })
        setTimeout(() => controller.abort(), 50)
        const abortedCall = await rejection(pending)
        assert.strictEqual((abortedCall as Error).name, "AbortError")
        assert.isBelow(Date.now() - started, 5_000)
        assert.strictEqual(
          (await rejection(flex.paymentIntents.list({}, { signal: controller.signal }))) instanceof Error,
          true
        )

        const loop = async () => {
          const stop = new AbortController()
          setTimeout(() => stop.abort(new Error("stop listing")), 50)
          for await (const _ of flex.paymentIntents.listAll({}, { signal: stop.signal, timeout: 10_000 })) return
        }
        assert.strictEqual(((await rejection(loop())) as Error).message, "stop listing")
      } finally {
        await flex.close()
      }
    }))

  it("close() releases the client; calls afterwards reject; a custom fetch sends the requests", () =>
    withSandbox({ seed: 10, intents: 2 }, async (sandbox) => {
      let sent = 0
      const flex = new Flex({
        ...sandbox.clientOptions,
        fetch: (input, init) => {
          sent++
          return fetch(input, init)
        }
      })
      assert.strictEqual((await flex.paymentIntents.list()).length, 2)
      assert.strictEqual(sent, 1)
      await flex.close()
      await flex.close()
      const closed = await rejection(flex.paymentIntents.list())
      assert.match((closed as Error).message, /closed/)
    }))

  it("refuses bad options at construction", () => {
    assert.throws(() => new Flex({ apiKey: "" }), TypeError, /apiKey/)
    assert.throws(() => new Flex({ apiKey: "fsk_test_x", baseUrl: "not a url" }), TypeError)
    assert.throws(() => new Flex({ apiKey: "fsk_test_x", timeout: -1 }), TypeError, /timeout/)
    assert.throws(() => new Flex({ apiKey: "fsk_test_x", maxRetries: 1.5 }), TypeError, /maxRetries/)
  })
})
