/**
 * `pnpm bench` (about half an hour: the memory case cancels 100,000 intents) and `pnpm bench --quick`
 * (under two minutes, smaller counts): every case in turn, in this one process run, a table on stdout
 * and `bench/results.json`. Timing goals live here and in BENCHMARKS.md, never in tests; nothing here
 * fails on a missed goal (a case that breaks does fail the run).
 *
 * Cases: decode (`decode.ts`), client (`client.ts`), worker against the rate limit, worker ceiling
 * on both SQLite engines and memory (`worker.ts`), the floor of a cancellation (`floor.ts`), sandbox
 * throughput (`sandbox.ts`). `--only=decode,client` runs only the named
 * cases (decode, client, sandbox, rate, ceiling, pg, memory, startup) and leaves `bench/results.json` alone.
 * The CLI's start-up against its floor is `startup.ts`.
 */
import { writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { type ClientFigures, runClientBench } from "./client.js"
import { runDecodeBench } from "./decode.js"
import { runFloorBench } from "./floor.js"
import { runSandboxBench } from "./sandbox.js"
import { runStartupBench } from "./startup.js"
import { fmt } from "./stats.js"
import {
  clusterModeAvailable,
  findPostgres,
  runPgCeilingBench,
  runRateLimitBench,
  runSqliteCeilingBench
} from "./worker.js"

const quick = process.argv.includes("--quick")
const only = process.argv
  .find((arg) => arg.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",")
const runs = (name: string) => only === undefined || only.includes(name)

const sizes = quick
  ? {
      decode: { warmupMs: 300, rounds: 3, roundMs: 200 },
      client: { rounds: 3, sequential: 200, concurrent: 600, concurrency: 16, warmup: 300 },
      sandboxMs: 1500,
      rateIntents: 600,
      ceilingIntents: 500,
      pgIntents: 400,
      memoryIds: 1000
    }
  : {
      decode: { warmupMs: 1000, rounds: 7, roundMs: 500 },
      client: { rounds: 5, sequential: 1000, concurrent: 3000, concurrency: 16, warmup: 1000 },
      sandboxMs: 5000,
      rateIntents: 3000,
      ceilingIntents: 3000,
      pgIntents: 2000,
      memoryIds: 100_000
    }

const log = (line: string) => process.stderr.write(`${line}\n`)
const round = (n: number | null | undefined, digits = 1): number | null =>
  n === null || n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits))

const failures: Array<string> = []
const attempt = async <A>(name: string, f: () => Promise<A>): Promise<A | undefined> => {
  if (!runs(name)) return undefined
  const started = performance.now()
  log(`[${name}] running…`)
  try {
    const result = await f()
    log(`[${name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return result
  } catch (error) {
    failures.push(`${name}: ${(error as Error).stack ?? String(error)}`)
    log(`[${name}] FAILED: ${(error as Error).message}`)
    return undefined
  }
}

const startedAll = performance.now()
const at = new Date().toISOString()

const decode = await attempt("decode", async () => runDecodeBench(sizes.decode))
const client = await attempt("client", () => runClientBench(sizes.client))
const sandbox = await attempt("sandbox", () => runSandboxBench({ durationMs: sizes.sandboxMs, log: false }))
const rate = await attempt("rate", () => runRateLimitBench(sizes.rateIntents, 100))
// Side by side: the embedded engine (the default), the cluster engine on SQLite (the reference), the floor.
const ceiling = await attempt("ceiling", () => runSqliteCeilingBench(sizes.ceilingIntents, "embedded"))
const ceilingCluster = await attempt("ceiling", () => runSqliteCeilingBench(sizes.ceilingIntents, "cluster"))
const floor = await attempt("floor", () => runFloorBench(sizes.ceilingIntents))

const pgSkip = await (async (): Promise<{ url: string } | { skipped: string }> => {
  if (!runs("pg")) return { skipped: "not selected" }
  if (!(await clusterModeAvailable())) return { skipped: "cluster mode not available yet (no flex-worker serve)" }
  return findPostgres()
})()
const pg1 = "url" in pgSkip ? await attempt("pg", () => runPgCeilingBench(pgSkip.url, 1, sizes.pgIntents)) : undefined
const pg3 = "url" in pgSkip ? await attempt("pg", () => runPgCeilingBench(pgSkip.url, 3, sizes.pgIntents)) : undefined

if (runs("memory") && !quick)
  log(`[memory] ${fmt(sizes.memoryIds)} cancellations: this takes a while (see BENCHMARKS.md)`)
const memory = await attempt("memory", () => runSqliteCeilingBench(sizes.memoryIds))

const startup = await attempt("startup", () => runStartupBench(quick ? 3 : 7))

const byName = (name: string): ClientFigures | undefined => client?.clients.find((c) => c.name === name)
const pgCps = (result: typeof pg1) => (result !== undefined && "cps" in result ? result.cps : null)

const results = {
  at,
  machine: { cpus: cpus().length, node: process.version },
  decode: {
    json_parse_us: round(decode?.json_parse_us, 2),
    domain_us: round(decode?.domain_us, 2),
    domain_effect_us: round(decode?.domain_effect_us, 2),
    zod_us: round(decode?.zod_us, 2),
    valibot_us: round(decode?.valibot_us, 2)
  },
  client: {
    raw_undici_us: round(byName("raw_undici")?.sequential.us),
    fetch_zod_us: round(byName("fetch_zod")?.sequential.us),
    flex_undici_us: round(byName("flex_undici")?.sequential.us),
    flex_fetch_us: round(byName("flex_fetch")?.sequential.us),
    concurrency16: {
      raw_undici_rps: round(byName("raw_undici")?.concurrent.rps, 0),
      flex_undici_rps: round(byName("flex_undici")?.concurrent.rps, 0)
    }
  },
  worker: {
    limit_rps: rate?.limit_rps ?? null,
    achieved_cps: round(rate?.achieved_cps),
    calls_per_cancel: round(rate?.calls_per_cancel, 3),
    http_429: rate?.http_429 ?? null,
    ceiling_sqlite_cps: round(ceiling?.cps),
    ceiling_sqlite_cpu_ms: round(ceiling?.cpuMsPerCancelSteady, 2),
    ceiling_sqlite_statements: round(ceiling?.statementsPerCancel, 1),
    ceiling_sqlite_cluster_cps: round(ceilingCluster?.cps),
    ceiling_sqlite_cluster_cpu_ms: round(ceilingCluster?.cpuMsPerCancelSteady, 2),
    ceiling_sqlite_cluster_statements: round(ceilingCluster?.statementsPerCancel, 1),
    floor_cps: round(floor?.cps),
    floor_cpu_ms: round(floor?.cpuMsPerCancel, 3),
    ceiling_pg1_cps: round(pgCps(pg1)),
    ceiling_pg3_cps: round(pgCps(pg3)),
    pg_stop_ms: [pg1, pg3].flatMap((result) =>
      result !== undefined && "stopMs" in result ? result.stopMs.map((ms) => round(ms, 0)) : []
    )
  },
  memory: { ids: memory === undefined ? null : sizes.memoryIds, peak_rss_mb: round(memory?.peakRssMb, 0) },
  sandbox: { rps: round(sandbox?.rps, 0) },
  startup: {
    floor_ms: round(startup?.floor_ms, 0),
    help_ms: round(startup?.help_ms, 0),
    cancel_ms: round(startup?.cancel_ms, 0),
    api_call_ms: round(startup?.api_call_ms, 1)
  }
}

// ---------------------------------------------------------------------------------------------------
// The table

type Row = readonly [string, string, string, string]
const rows: Array<Row> = []
const verdict = (met: boolean | null) => (met === null ? "n/a" : met ? "met" : "NOT met")
const goal = (label: string, value: string, target: string, met: boolean | null) =>
  rows.push([label, value, target, verdict(met)])
const info = (label: string, value: string) => rows.push([label, value, "", ""])
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? null : a / b

if (decode !== undefined) {
  const r = ratio(decode.domain_us, decode.json_parse_us)
  info(`decode: JSON.parse alone (${fmt(decode.bytes)} B)`, `${fmt(decode.json_parse_us, 1)} µs`)
  goal(
    "decode: JSON.parse + @flex/domain",
    `${fmt(decode.domain_us, 1)} µs (${fmt(r, 2)}×)`,
    "≤ 1.5× JSON.parse",
    r === null ? null : r <= 1.5
  )
  info(
    "decode: JSON.parse + Effect's ParseResult",
    `${fmt(decode.domain_effect_us, 1)} µs (${fmt(ratio(decode.domain_effect_us, decode.json_parse_us), 2)}×), the same schema without Decoder`
  )
  info(
    "decode: JSON.parse + zod 4",
    `${fmt(decode.zod_us, 1)} µs (${fmt(ratio(decode.zod_us, decode.json_parse_us), 2)}×)`
  )
  info(
    "decode: JSON.parse + valibot 1",
    `${fmt(decode.valibot_us, 1)} µs (${fmt(ratio(decode.valibot_us, decode.json_parse_us), 2)}×)`
  )
  info(
    "decode: validation alone",
    `domain ${fmt(decode.only.domain_us, 1)} (Effect's ParseResult ${fmt(decode.only.domain_effect_us, 1)}), zod ${fmt(decode.only.zod_us, 1)}, valibot ${fmt(decode.only.valibot_us, 1)} µs`
  )
  info("decode: variants accepted and rejected alike", `${decode.variants} of ${decode.variants}`)
}
if (client !== undefined) {
  const raw = byName("raw_undici")!
  const flexUndici = byName("flex_undici")!
  const fetchZod = byName("fetch_zod")!
  for (const c of client.clients) {
    info(
      `client: ${c.name}`,
      `seq ${fmt(c.sequential.rps)} req/s (${fmt(c.sequential.us)} µs, p50 ${fmt(c.sequential.p50_ms, 2)} / p99 ${fmt(c.sequential.p99_ms, 2)} ms); c${client.concurrency} ${fmt(c.concurrent.rps)} req/s (p50 ${fmt(c.concurrent.p50_ms, 2)} / p99 ${fmt(c.concurrent.p99_ms, 2)} ms)`
    )
  }
  const r = ratio(flexUndici.sequential.us, raw.sequential.us)
  goal("client: FlexClient/undici vs raw undici", `${fmt(r, 2)}× per request`, "≤ 1.25×", r === null ? null : r <= 1.25)
  goal(
    "client: FlexClient/undici vs fetch + zod",
    `${fmt(flexUndici.sequential.us)} vs ${fmt(fetchZod.sequential.us)} µs; c16 ${fmt(flexUndici.concurrent.rps)} vs ${fmt(fetchZod.concurrent.rps)} req/s`,
    "ahead",
    flexUndici.sequential.us < fetchZod.sequential.us && flexUndici.concurrent.rps > fetchZod.concurrent.rps
  )
}
if (rate !== undefined) {
  const r = rate.achieved_cps / rate.limit_rps
  goal(
    `worker vs limit (${fmt(rate.intents)} intents, 20 ms latency)`,
    `${fmt(rate.achieved_cps, 1)} cancels/s of ${rate.limit_rps} (${fmt(r, 3)})`,
    "≥ 0.98",
    r >= 0.98
  )
  goal("worker: API calls per cancellation", fmt(rate.calls_per_cancel, 3), "≤ 1.02", rate.calls_per_cancel <= 1.02)
  goal("worker: 429s seen", String(rate.http_429), "0", rate.http_429 === 0)
}
if (ceiling !== undefined) {
  const figure = `${fmt(ceiling.cps, 1)} cancels/s (${fmt(ceiling.cpuMsPerCancel, 1)} ms CPU each, start-up included)`
  goal(
    `worker ceiling, SQLite, embedded engine (${fmt(ceiling.intents)} intents)`,
    figure,
    "≥ 500/s",
    ceiling.cps >= 500
  )
  goal(
    "worker: CPU per cancellation, embedded engine",
    `${fmt(ceiling.cpuMsPerCancelSteady, 2)} ms (start-up excluded)`,
    "≤ 2 ms",
    ceiling.cpuMsPerCancelSteady === null ? null : ceiling.cpuMsPerCancelSteady <= 2
  )
  info("worker: SQL statements per cancellation, embedded engine", fmt(ceiling.statementsPerCancel, 1))
  goal("worker ceiling ≥ a 100 req/s API", `${fmt(ceiling.cps, 1)} cancels/s`, "≥ 100/s", ceiling.cps >= 100)
}
if (ceilingCluster !== undefined) {
  info(
    `worker ceiling, SQLite, cluster engine (reference, ${fmt(ceilingCluster.intents)} intents)`,
    `${fmt(ceilingCluster.cps, 1)} cancels/s, ${fmt(ceilingCluster.cpuMsPerCancelSteady, 2)} ms CPU each (start-up excluded), ${fmt(ceilingCluster.statementsPerCancel, 1)} SQL statements each`
  )
}
if (floor !== undefined) {
  info(
    "floor: raw undici + Decoder + the same writes in better-sqlite3",
    `${fmt(floor.cps, 1)} cancels/s, ${fmt(floor.cpuMsPerCancel, 3)} ms CPU each, ${fmt(floor.statementsPerCancel, 1)} statements each`
  )
  const over = (result: typeof ceiling) =>
    result === undefined || result.cpuMsPerCancelSteady === null
      ? "n/a"
      : `${fmt(result.cpuMsPerCancelSteady / floor.cpuMsPerCancel, 1)}×`
  info("worker CPU per cancellation over the floor", `embedded ${over(ceiling)}, cluster ${over(ceilingCluster)}`)
}
for (const [label, result] of [
  ["worker ceiling, PostgreSQL, 1 runner", pg1],
  ["worker ceiling, PostgreSQL, 3 runners", pg3]
] as const) {
  if ("skipped" in pgSkip) info(label, `skipped: ${pgSkip.skipped}`)
  else if (result !== undefined && "cps" in result)
    info(label, `${fmt(result.cps, 1)} cancels/s (${fmt(result.intents)} intents)`)
}
{
  const stops = [pg1, pg3].flatMap((result) => (result !== undefined && "stopMs" in result ? result.stopMs : []))
  if (stops.length > 0) {
    const worst = Math.max(...stops)
    goal(
      "PostgreSQL runner: SIGTERM to exit, nothing in flight",
      `${stops.map((ms) => fmt(ms, 0)).join(", ")} ms (the runs above, each runner stopped after its work; the last of each alone)`,
      "≤ 3 s",
      worst <= 3000
    )
  }
}
if (memory !== undefined) {
  goal(
    `memory: cancel --file, ${fmt(sizes.memoryIds)} IDs`,
    `peak RSS ${fmt(memory.peakRssMb)} MB (${fmt(memory.cps, 1)} cancels/s, ${fmt(memory.wallSeconds)} s)`,
    "≤ 300 MB",
    memory.peakRssMb === null ? null : memory.peakRssMb <= 300
  )
}
if (startup !== undefined) {
  const help = ratio(startup.help_ms, startup.floor_ms)
  const cancelGoal = 2 * startup.floor_ms + startup.api_call_ms
  info(
    `start-up: node -e 'import("effect")' (the floor)`,
    `${fmt(startup.floor_ms, 0)} ms (median of ${startup.rounds})`
  )
  goal(
    "start-up: flex-worker --help",
    `${fmt(startup.help_ms, 0)} ms (${fmt(help, 2)}× the floor)`,
    "≤ 1.5× the floor",
    help === null ? null : help <= 1.5
  )
  goal(
    "start-up: flex-worker cancel (one intent, a fresh store)",
    `${fmt(startup.cancel_ms, 0)} ms (${fmt(ratio(startup.cancel_ms, startup.floor_ms), 2)}× the floor; the API call ${fmt(startup.api_call_ms, 1)} ms)`,
    "≤ 2× the floor + the call",
    startup.cancel_ms <= cancelGoal
  )
}
if (sandbox !== undefined) {
  goal(
    "sandbox",
    `${fmt(sandbox.rps)} req/s (GET ${fmt(sandbox.getRps)}, cancel ${fmt(sandbox.cancelRps)})`,
    "≥ 5,000",
    sandbox.rps >= 5000
  )
}

const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length), 4))
const line = (row: Row) =>
  row
    .map((cell, i) => cell.padEnd(widths[i]!))
    .join("  ")
    .trimEnd()
console.log(
  `\nflex-ts benchmarks${quick ? " (--quick)" : ""}: ${at}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}\n`
)
console.log(line(["case", "figure", "goal", ""]))
console.log(line(["----", "------", "----", ""]))
for (const row of rows) console.log(line(row))
console.log(`\n(${((performance.now() - startedAll) / 1000).toFixed(0)} s)`)

if (only === undefined) {
  writeFileSync(new URL("../results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`)
  console.log("wrote bench/results.json")
}
if (failures.length > 0) {
  console.error(`\n${failures.length} case(s) failed:\n${failures.join("\n")}`)
  process.exitCode = 1
}
