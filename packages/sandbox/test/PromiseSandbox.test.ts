import * as Net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { type RunningSandbox, startSandbox } from "../src/index.js"
import * as Sandbox from "../src/Sandbox.js"

// The promise face, used the way a plain vitest or jest suite would: async functions, no Effect import.

const cancel = (sandbox: RunningSandbox, id: string) =>
  fetch(`${sandbox.url}/v1/payment_intents/${id}/cancel`, {
    method: "POST",
    headers: { authorization: `Bearer ${sandbox.apiKey}` }
  })

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("startSandbox", () => {
  it("starts, cancels over a socket, reports state, calls and releases, and closes", async () => {
    const sandbox = await startSandbox({ seed: 7, intents: 5 })
    try {
      assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepStrictEqual(sandbox.clientOptions, { baseUrl: sandbox.url, apiKey: "fsk_test_sandbox" })
      assert.strictEqual((await sandbox.intents()).length, 5)
      const [hold] = await sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
      const id = hold!.payment_intent_id
      // The wire form: what the API serves, timestamps as strings.
      assert.strictEqual(typeof hold!.created_at, "string")
      assert.strictEqual(hold!.amount_capturable, 5000)

      const res = await cancel(sandbox, id)
      assert.strictEqual(res.status, 200)
      const body = (await res.json()) as { payment_intent: unknown }
      assert.deepStrictEqual(body.payment_intent, await sandbox.intent(id))
      assert.strictEqual((await sandbox.intent(id))?.status, "canceled")
      assert.strictEqual(await sandbox.released(id), 5000)
      assert.deepStrictEqual(
        (await sandbox.releases()).map((r) => [r.payment_intent_id, r.amount]),
        [[id, 5000]]
      )
      const calls = await sandbox.calls()
      assert.deepStrictEqual(
        calls.map((c) => [c.method, c.path, c.status]),
        [["POST", `/v1/payment_intents/${id}/cancel`, 200]]
      )
      assert.isUndefined(await sandbox.intent("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
      assert.isUndefined(await sandbox.released("fpi_01J9M9S346Q3D25VT4F5V37E3S"))
    } finally {
      await sandbox.close()
    }
    const refused = await rejection(fetch(`${sandbox.url}/v1/payment_intents`))
    assert.instanceOf(refused, Error)
    await sandbox.close() // a second close does nothing
  })

  it("sets and reads faults, and resets to the seed", async () => {
    const sandbox = await startSandbox({ seed: 3, intents: 2, faults: "flaky" })
    try {
      assert.strictEqual((await sandbox.faults()).default?.reset_rate, 0.01)
      await sandbox.setFaults({ default: { error_rate: 1, error_statuses: [503] } })
      const [hold] = await sandbox.createIntents([{ status: "requires_capture" }])
      assert.strictEqual((await cancel(sandbox, hold!.payment_intent_id)).status, 503)
      assert.strictEqual((await sandbox.calls())[0]?.fault, "server_error")
      await sandbox.reset()
      assert.strictEqual((await sandbox.intents()).length, 2)
      assert.deepStrictEqual(await sandbox.calls(), [])
      assert.strictEqual((await sandbox.faults()).default?.reset_rate, 0.01)
    } finally {
      await sandbox.close()
    }
  })

  it("rejects with the SandboxError itself: bad options, a bad spec, a bad profile, a port in use", async () => {
    const badOptions = await rejection(startSandbox({ port: 70000 }))
    assert.instanceOf(badOptions, Sandbox.SandboxError)
    assert.strictEqual((badOptions as Sandbox.SandboxError).reason, "InvalidOptions")

    const sandbox = await startSandbox({ apiKey: "fsk_test_pinned" })
    try {
      assert.strictEqual(sandbox.clientOptions.apiKey, "fsk_test_pinned")
      const badSpec = await rejection(
        sandbox.createIntents([{ status: "requires_capture" }, { status: "lost" as any }])
      )
      assert.instanceOf(badSpec, Sandbox.SandboxError)
      assert.strictEqual((badSpec as Sandbox.SandboxError).reason, "InvalidIntent")
      assert.match((badSpec as Sandbox.SandboxError).message, /payment_intents\[1\]\.status/)
      assert.deepStrictEqual(await sandbox.intents(), [], "all or none")
      const badProfile = await rejection(sandbox.setFaults({ default: { error_rate: 2 } }))
      assert.strictEqual((badProfile as Sandbox.SandboxError).reason, "InvalidFaultProfile")

      const taken = await rejection(startSandbox({ port: sandbox.port }))
      assert.instanceOf(taken, Sandbox.SandboxError)
      assert.strictEqual((taken as Sandbox.SandboxError).reason, "ListenFailed")
    } finally {
      await sandbox.close()
    }
  })

  it("closing drops a hanging connection", async () => {
    const sandbox = await startSandbox({ faults: { default: { hang_rate: 1 } } })
    const { port } = new URL(sandbox.url)
    const closed = new Promise<string>((resolve) => {
      const socket = Net.connect(Number(port), "127.0.0.1", () => {
        socket.write(`GET /v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sandbox.apiKey}\r\n\r\n`)
      })
      socket.on("close", () => resolve("closed"))
      socket.on("error", () => undefined)
    })
    while ((await sandbox.calls()).length === 0) await new Promise((r) => setTimeout(r, 5))
    await sandbox.close()
    assert.strictEqual(await closed, "closed")
  })

  it("the README's first example: create an intent through the admin API, then cancel it", async () => {
    // The CLI example with the same seed and size (`--seed 7 --intents 50`), its two requests as they stand.
    const sandbox = await startSandbox({ seed: 7, intents: 50 })
    try {
      const id = "fpi_01J9M9S346Q3D25VT4F5V37E3S"
      const auth = { authorization: "Bearer fsk_test_anything" }
      const created = await fetch(`${sandbox.url}/_sandbox/payment_intents`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ payment_intents: [{ payment_intent_id: id, status: "requires_capture" }] })
      })
      assert.strictEqual(created.status, 201)
      const res = await fetch(`${sandbox.url}/v1/payment_intents/${id}/cancel`, { method: "POST", headers: auth })
      assert.strictEqual(res.status, 200)
      assert.strictEqual(
        ((await res.json()) as { payment_intent: { status: string } }).payment_intent.status,
        "canceled"
      )
    } finally {
      await sandbox.close()
    }
  })
})
