/**
 * The worker assembled: the workflow, its activities' services and an engine.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { NodeHttpClient } from "@effect/platform-node"
import type { WorkflowEngine } from "@effect/workflow/WorkflowEngine"
import { FlexClient } from "@flex/http"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import type { ApiRateLimiter } from "./ApiRateLimiter.js"
import * as ApiRateLimiterModule from "./ApiRateLimiter.js"
import * as CancelWorkflow from "./CancelWorkflow.js"
import * as Engine from "./Engine.js"
import * as Store from "./Store.js"

export interface Options {
  readonly store: string
  /** API calls per second across every in-flight request. */
  readonly rate: number
  /** The Flex client; by default from FLEX_API_KEY / FLEX_BASE_URL. */
  readonly flex?: Layer.Layer<FlexClient.FlexClient, ConfigError.ConfigError, HttpClient.HttpClient> | undefined
  /** Attempts and backoff; by default from FLEX_WORKER_* variables (see CancelWorkflow.settingsConfig). */
  readonly settings?: Layer.Layer<CancelWorkflow.FlowSettings, ConfigError.ConfigError> | undefined
}

/** Reads cost nothing to repeat, so the client may retry them itself; cancels never (see CancelWorkflow). */
const flexFromEnv = FlexClient.layerConfig()

/** The Flex client (on undici) and the shared rate limiter: what every API call needs. */
export const flexLayer = (options: Pick<Options, "rate" | "flex">) =>
  Layer.merge(
    ApiRateLimiterModule.layer(options.rate),
    (options.flex ?? flexFromEnv).pipe(Layer.provide(NodeHttpClient.layerUndici))
  )

export const layer = (options: Options) => {
  const services = Layer.merge(Store.layer, flexLayer(options))
  // The settings are provided where the workflow is registered: its handler runs in the engine's fibers.
  return CancelWorkflow.layer.pipe(
    Layer.provide(options.settings ?? CancelWorkflow.settingsLayer),
    Layer.provideMerge(services),
    Layer.provideMerge(Engine.sqlite(options.store))
  )
}

export type Services = WorkflowEngine | Store.Store | ApiRateLimiter | FlexClient.FlexClient
