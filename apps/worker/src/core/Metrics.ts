/**
 * The worker's metrics, and their exposition in the Prometheus text format.
 *
 * Metrics are Effect `Metric`s, so the code that counts does not know about Prometheus; `/metrics`
 * renders the snapshot of the process's registry. Every runner exposes its own; sum them in Prometheus.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricState from "effect/MetricState"

export const requestsAccepted = Metric.counter("flex_worker_requests_accepted_total", {
  description: "Cancellation requests accepted (new requests; resubmissions of a stored request are not counted)"
})

export const outcomes = Metric.counter("flex_worker_outcomes_total", {
  description: "Outcomes recorded by this runner, by kind"
})

export const apiCalls = Metric.counter("flex_worker_api_calls_total", {
  description:
    "Flex API calls made by this runner, by status class (2xx, 4xx, 5xx, or error when there was no response)"
})

export const apiLatency = Metric.histogram(
  "flex_worker_api_latency_seconds",
  MetricBoundaries.fromIterable([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  "Latency of Flex API calls made by this runner, in seconds"
)

export const inFlight = Metric.gauge("flex_worker_workflows_in_flight", {
  description: "Cancellation workflows running on this runner now"
})

export const rateLimiterWaits = Metric.counter("flex_worker_rate_limiter_waits_total", {
  description: "API calls that had to wait for the client-side rate limiter"
})

export const stalledMessageAge = Metric.gauge("flex_worker_stalled_message_age_seconds", {
  description:
    "Cluster mode: age in seconds of the oldest stalled engine message on this runner's shards (due, unprocessed, not read for longer than FLEX_WORKER_STALL_THRESHOLD, and not being processed by the runner); 0 when none"
})

/** The metrics `/metrics` exposes, so they appear (at zero) before anything happened. */
const exposed = new Set([
  "flex_worker_requests_accepted_total",
  "flex_worker_outcomes_total",
  "flex_worker_api_calls_total",
  "flex_worker_api_latency_seconds",
  "flex_worker_workflows_in_flight",
  "flex_worker_rate_limiter_waits_total",
  "flex_worker_stalled_message_age_seconds"
])

/** Touches every metric once so each has a sample from the start. */
export const initialize = Effect.all([
  Metric.incrementBy(requestsAccepted, 0),
  Metric.incrementBy(rateLimiterWaits, 0),
  Metric.set(inFlight, 0)
])

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const number = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN")

const labels = (
  tags: ReadonlyArray<{ readonly key: string; readonly value: string }>,
  extra?: readonly [string, string]
) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...(extra ? [extra] : [])]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
}

/** Renders the registry's current snapshot in the Prometheus text exposition format (version 0.0.4). */
export const prometheus: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const families = new Map<string, { help: string; type: string; lines: Array<string> }>()
  for (const pair of pairs) {
    const key = pair.metricKey
    if (!exposed.has(key.name)) continue
    const state = pair.metricState
    const tags = key.tags
    let family = families.get(key.name)
    const type = MetricState.isCounterState(state)
      ? "counter"
      : MetricState.isGaugeState(state)
        ? "gauge"
        : MetricState.isHistogramState(state)
          ? "histogram"
          : undefined
    if (type === undefined) continue
    if (family === undefined) {
      family = { help: key.description._tag === "Some" ? key.description.value : key.name, type, lines: [] }
      families.set(key.name, family)
    }
    if (MetricState.isCounterState(state))
      family.lines.push(`${key.name}${labels(tags)} ${number(Number(state.count))}`)
    else if (MetricState.isGaugeState(state))
      family.lines.push(`${key.name}${labels(tags)} ${number(Number(state.value))}`)
    else if (MetricState.isHistogramState(state)) {
      let sawInfinity = false
      for (const [boundary, count] of state.buckets) {
        if (boundary === Number.POSITIVE_INFINITY) sawInfinity = true
        family.lines.push(`${key.name}_bucket${labels(tags, ["le", number(boundary)])} ${count}`)
      }
      if (!sawInfinity) family.lines.push(`${key.name}_bucket${labels(tags, ["le", "+Inf"])} ${state.count}`)
      family.lines.push(`${key.name}_sum${labels(tags)} ${number(state.sum)}`)
      family.lines.push(`${key.name}_count${labels(tags)} ${state.count}`)
    }
  }
  const out: Array<string> = []
  for (const [name, family] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    out.push(`# TYPE ${name} ${family.type}`)
    out.push(...family.lines)
  }
  return `${out.join("\n")}\n`
})

/** The status class of an API call for `flex_worker_api_calls_total`. */
export const statusClass = (status: number | undefined): string =>
  status === undefined || status === 0 ? "error" : `${Math.floor(status / 100)}xx`
