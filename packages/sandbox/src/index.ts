/**
 * @since 0.1.0
 */

/**
 * The call log of the public API.
 *
 * @since 0.1.0
 */
export * as Call from "./Call.js"

/**
 * Fault profiles, per endpoint, with the presets `none`, `flaky` and `storm`.
 *
 * @since 0.1.0
 */
export * as FaultProfile from "./FaultProfile.js"
/**
 * The sandbox for any test runner: `await startSandbox(options)`, async admin functions, `close()`.
 *
 * @since 0.1.0
 */
export * as PromiseSandbox from "./PromiseSandbox.js"
/**
 * Starts a sandbox and resolves once it listens: the promise face of `Sandbox.start`, for tests that do
 * not use Effect.
 *
 * @since 0.1.0
 */
export {
  /**
   * A running sandbox, with async admin functions.
   *
   * @category models
   * @since 0.1.0
   */
  type RunningSandbox,
  /**
   * Starts a sandbox on `127.0.0.1` and a free port (by default) and resolves once it listens; rejects with a
   * `SandboxError` for invalid options or a port in use. Stop it with `close()`.
   *
   * @category constructors
   * @since 0.1.0
   */
  startSandbox
} from "./PromiseSandbox.js"
/**
 * The sandbox: `start`, `layer`, the `Sandbox` service and its handle.
 *
 * @since 0.1.0
 */
export * as Sandbox from "./Sandbox.js"

/**
 * Webhooks: endpoints, the events the sandbox emits, and the log of its deliveries.
 *
 * @since 0.1.0
 */
export * as Webhook from "./Webhook.js"
