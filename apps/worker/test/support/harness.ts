/**
 * Test harness: a real sandbox on 127.0.0.1 and the worker on a real SQLite file in a temp directory.
 */

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import type * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import type { Sandbox } from "@flex/sandbox"
import { Config, Duration, Effect, Layer, Redacted, Stream } from "effect"
import type * as Input from "../../src/cli/Input.js"
import type * as Sqlite from "../../src/engine/Sqlite.js"
import * as Client from "../../src/flex/Client.js"
import * as CancelWorkflow from "../../src/flow/CancelWorkflow.js"
import * as Settings from "../../src/flow/Settings.js"
import * as Store from "../../src/store/Store.js"
import * as StoreLock from "../../src/store/StoreLock.js"
import * as Worker from "../../src/Worker.js"

/** Payment intent IDs as the batch's input stream, one per line. */
export const inputs = (ids: ReadonlyArray<string>): Stream.Stream<Input.Input> =>
  Stream.fromIterable(ids.map((paymentIntentId, i) => ({ _tag: "Intent" as const, line: i + 1, paymentIntentId })))

export const tempStore = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(Path.join(tmpdir(), "flex-worker-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => Path.join(dir, "worker.sqlite")))

/** Fast flow settings for tests: short backoffs so fault scenarios finish in seconds. */
export const fastFlow = Layer.succeed(Settings.FlowSettings, {
  maxAttempts: 12,
  maxReads: 6,
  baseDelay: Duration.millis(20),
  maxDelay: Duration.millis(200)
})

const flexFor = (sandbox: Sandbox.SandboxHandle) =>
  Config.succeed({
    apiKey: Redacted.make(sandbox.apiKey),
    baseUrl: sandbox.url,
    timeout: Duration.seconds(2),
    retryPolicy: { initialDelay: Duration.millis(10), maxDelay: Duration.millis(50) }
  })

export const workerLayer = (
  sandbox: Sandbox.SandboxHandle,
  store: string,
  rate = 1000,
  runnerAddress?: RunnerAddress.RunnerAddress,
  engine?: Sqlite.Engine
) => Worker.layer({ store, rate, runnerAddress, engine, flex: flexFor(sandbox), settings: fastFlow })

/**
 * The worker on `WorkflowEngine.layerMemory` (nothing durable), its store on SQLite: the contract's
 * reference for what the workflow does when no engine stores anything.
 */
export const memoryWorkerLayer = (sandbox: Sandbox.SandboxHandle, store: string, rate = 1000) =>
  CancelWorkflow.layer.pipe(
    Layer.provide(fastFlow),
    Layer.provideMerge(Layer.mergeAll(Store.layer, Client.flexLayer({ rate, flex: flexFor(sandbox) }))),
    Layer.provideMerge(Layer.merge(WorkflowEngine.layerMemory, StoreLock.client(store)))
  )
