/**
 * Cluster mode's stall watchdog: it notices when this runner holds a shard whose due engine messages
 * it neither reads nor processes, says so on `/healthz` (503) and in one log line, and then stops the
 * runner with an error (exit 1), so that its supervisor starts it again: a starting runner resets its
 * shards' messages and reads them all (restarting the runners finished every stalled request within
 * 15 s in the chaos run that found it).
 *
 * The stall is Effect-TS/effect#6248, seen here after PostgreSQL restarts: `cluster_messages` rows
 * of ~15 shards stayed unprocessed, their `last_read` frozen at the moment the database stopped, while
 * the runners answered `/healthz`. The engine reads a message again only when its `last_read` is NULL
 * or 10 minutes old (SqlMessageStorage), so a message marked read whose processing got lost sits for
 * 10 minutes, and with it the workflow behind it.
 *
 * What counts as stalled, and why. The database alone cannot tell a lost message from a slow one: a
 * workflow's `run` message stays unprocessed, read once, for as long as the workflow runs, and an
 * activity's for as long as the activity waits for the rate limiter behind a backlog, which can be
 * minutes. So a message is stalled only when both sides agree:
 *
 * - the database: a request (`kind = 0`) on one of this runner's shards, `processed = false`, without
 *   the final reply that would end it, due (`deliver_at` absent or past, so a DurableClock wake-up
 *   waiting for its time is not), and not read for longer than the threshold (`last_read` older, or
 *   NULL while it has been due for that long);
 * - the runner: `Sharding.notify`, told that this message is in storage, does not answer
 *   `AlreadyProcessingMessage` (the entity manager's own check of its in-flight requests) nor
 *   `EntityNotAssignedToRunner` (the shard is not held, or is being handed over);
 * - and both stay so, for the same `last_read`, over a confirmation window of several of the engine's
 *   1-second storage polls (a message reset to NULL is read at the next poll; a reply being saved
 *   marks it processed within moments).
 *
 * Failover does not trip it: the shards of a dead runner are not this runner's until it acquires
 * them, and acquiring a shard resets its messages' `last_read` before the shard counts as held (if
 * that reset fails, the messages are stalled indeed). The watchdog only judges while the database
 * answers; a failed scan forgets what it had seen.
 */
import * as EntityAddress from "@effect/cluster/EntityAddress"
import * as EntityId from "@effect/cluster/EntityId"
import * as EntityType from "@effect/cluster/EntityType"
import * as Message from "@effect/cluster/Message"
import * as ShardId from "@effect/cluster/ShardId"
import * as Sharding from "@effect/cluster/Sharding"
import * as Snowflake from "@effect/cluster/Snowflake"
import * as Headers from "@effect/platform/Headers"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Durations from "../core/Durations.js"
import * as Metrics from "../core/Metrics.js"
import * as Postgres from "./Postgres.js"

/** The runner stopped because of stalled messages (exit code 1). */
export class ClusterStalled extends Data.TaggedError("ClusterStalled")<{
  readonly message: string
  readonly messages: number
  readonly oldestSeconds: number
  readonly shards: ReadonlyArray<string>
}> {}

/**
 * `FLEX_WORKER_STALL_THRESHOLD`: how long a due message may go unread on this runner's shards while
 * the runner is not processing it (default 60 s; `0 seconds` turns the watchdog off).
 */
export const thresholdConfig: Config.Config<Duration.Duration> = Durations.config("FLEX_WORKER_STALL_THRESHOLD", {
  default: Duration.seconds(60),
  zero: true
})

export interface Options {
  readonly threshold: Duration.DurationInput
  /** How long `/healthz` says 503 before the runner stops (default 5 s). */
  readonly grace?: Duration.DurationInput | undefined
}

/**
 * The timings derived from the threshold: a scan every `interval` (1 to 10 s), and a stall confirmed
 * when the same message has been a suspect for `confirm` (at least 2 s: several of the engine's 1 s
 * polls). At the default 60 s a runner stops about 80 s after a message stopped being read.
 */
export const timings = (threshold: Duration.DurationInput) => {
  const ms = Duration.toMillis(threshold)
  const interval = Math.min(10_000, Math.max(1000, ms / 8))
  return { interval, confirm: Math.max(2000, 2 * interval) }
}

export class ClusterWatchdog extends Context.Tag("@flex/worker/ClusterWatchdog")<
  ClusterWatchdog,
  {
    /** Set once a stall is confirmed: the runner is about to stop. */
    readonly stalled: Effect.Effect<Option.Option<ClusterStalled>>
    readonly report: (stall: ClusterStalled) => Effect.Effect<void>
  }
>() {}

interface Row {
  readonly id: string
  readonly shard_id: string
  readonly entity_type: string
  readonly entity_id: string
  readonly tag: string | null
  readonly last_read: string | null
  readonly read_ms_ago: string | number | null
  readonly deliver_at: string | number | null
}

export interface Suspect {
  readonly id: string
  readonly shard: string
  readonly lastRead: string | null
  /** Since the message was last read, or (never read) since it became due. */
  readonly ageMs: number
}

/**
 * Candidates read per scan, oldest `last_read` first. Work in progress counts among them (the runner
 * then says it is processing it), so a backlog larger than this can hide a newer stall until it drains.
 */
const scanLimit = 5000

/**
 * One look: the due, unprocessed requests on this runner's shards not read for `threshold`, that the
 * runner says it is not processing.
 */
export const scan = (
  threshold: Duration.DurationInput
): Effect.Effect<ReadonlyArray<Suspect>, SqlError, Sharding.Sharding | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sharding = yield* Sharding.Sharding
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const ours: Array<string> = []
    for (let id = 1; id <= Postgres.shardsPerGroup; id++) {
      const shard = ShardId.make(Postgres.shardGroup, id)
      if (sharding.hasShardId(shard)) ours.push(shard.toString())
    }
    if (ours.length === 0) return []
    const now = yield* Clock.currentTimeMillis
    const thresholdMs = Duration.toMillis(threshold)
    const cutoff = now - thresholdMs
    // `deliver_at` is in the runners' epoch milliseconds and the snowflake id carries the creation time
    // (the engine's own notion of due); `last_read` is the database's `NOW()`, compared the engine's way.
    const rows = yield* sql<Row>`
      SELECT m.id::text AS id, m.shard_id, m.entity_type, m.entity_id, m.tag, m.last_read::text AS last_read,
        EXTRACT(EPOCH FROM (NOW() - m.last_read)) * 1000 AS read_ms_ago, m.deliver_at
      FROM cluster_messages m
      WHERE m.shard_id IN ${sql.in(ours)}
        AND m.processed = FALSE
        AND m.kind = 0
        AND (m.deliver_at IS NULL OR m.deliver_at <= ${now})
        AND (
          m.last_read < NOW() - make_interval(secs => ${thresholdMs / 1000})
          OR (
            m.last_read IS NULL
            AND (m.id >> 22) + ${Snowflake.constEpochMillis} <= ${cutoff}
            AND COALESCE(m.deliver_at, 0) <= ${cutoff}
          )
        )
        AND NOT EXISTS (
          SELECT 1 FROM cluster_replies r
          WHERE r.request_id = m.request_id AND (r.kind = 0 OR r.acked = FALSE)
        )
      ORDER BY m.last_read ASC NULLS FIRST
      LIMIT ${scanLimit}`
    const suspects: Array<Suspect> = []
    for (const row of rows) {
      const requestId = Snowflake.Snowflake(row.id)
      const address = EntityAddress.make({
        shardId: ShardId.ShardId.fromString(row.shard_id),
        entityType: EntityType.EntityType.make(row.entity_type, { disableValidation: true }),
        entityId: EntityId.make(row.entity_id)
      })
      const probe = new Message.IncomingRequest({
        envelope: {
          _tag: "Request",
          requestId,
          address,
          tag: row.tag ?? "",
          payload: undefined,
          headers: Headers.empty
        },
        lastSentReply: Option.none(),
        respond: () => Effect.void
      })
      // Not processing it, and the shard is held: notify succeeds (and triggers a storage read, which
      // skips the message while its `last_read` is recent: that is the stall).
      const idle = yield* sharding.notify(probe).pipe(
        Effect.as(true),
        // AlreadyProcessingMessage (in flight here) or EntityNotAssignedToRunner (not held here).
        Effect.catchAll(() => Effect.succeed(false)),
        Effect.timeoutTo({ duration: "1 second", onTimeout: () => false, onSuccess: (idle) => idle })
      )
      if (!idle) continue
      const deliverAt = row.deliver_at === null ? 0 : Number(row.deliver_at)
      suspects.push({
        id: row.id,
        shard: row.shard_id,
        lastRead: row.last_read,
        ageMs:
          row.read_ms_ago === null ? now - Math.max(Snowflake.timestamp(requestId), deliverAt) : Number(row.read_ms_ago)
      })
    }
    return suspects
  })

/** The watchdog's verdict, read by `/healthz`; set by {@link layerWatch}. */
export const layer: Layer.Layer<ClusterWatchdog> = Layer.effect(
  ClusterWatchdog,
  Effect.map(Ref.make(Option.none<ClusterStalled>()), (state) => ({
    stalled: Ref.get(state),
    report: (stall) => Ref.set(state, Option.some(stall))
  }))
)

/**
 * The watch itself, as a layer of `flex-worker serve`. Its construction never completes while the
 * runner is healthy, and fails with {@link ClusterStalled} once a stall is confirmed, after logging it
 * and answering 503 on `/healthz` for `grace`. A layer that fails fails the whole `Layer.launch`, so the
 * runner shuts down as on any fatal error (work handed over, locks released) and exits 1. A zero
 * threshold (`0 seconds`) turns it off.
 */
export const layerWatch = (
  options: Options
): Layer.Layer<never, ClusterStalled, ClusterWatchdog | Sharding.Sharding | SqlClient.SqlClient> =>
  Layer.effectDiscard(
    Duration.toMillis(options.threshold) <= 0
      ? Effect.void
      : Effect.flatMap(ClusterWatchdog, (service) => watch(options, service.report))
  )

const watch = (options: Options, report: (stall: ClusterStalled) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const { interval, confirm } = timings(options.threshold)
    const thresholdSeconds = Duration.toSeconds(options.threshold)
    const sharding = yield* Sharding.Sharding
    yield* Metric.set(Metrics.stalledMessageAge, 0)
    // Each suspect, by message id: the `last_read` it had and since when (locally) it has been seen so.
    let seen = new Map<string, { readonly lastRead: string | null; readonly since: number }>()
    for (;;) {
      yield* Effect.sleep(Duration.millis(interval))
      if (yield* sharding.isShutdown) return
      const result = yield* Effect.exit(Effect.timeout(scan(options.threshold), Duration.millis(interval * 2)))
      const now = yield* Clock.currentTimeMillis
      if (result._tag === "Failure") {
        seen = new Map()
        yield* Effect.logDebug("stall watchdog: scan failed; the database may be down", result.cause)
        continue
      }
      const next = new Map<string, { readonly lastRead: string | null; readonly since: number }>()
      for (const s of result.value) {
        const before = seen.get(s.id)
        next.set(
          s.id,
          before !== undefined && before.lastRead === s.lastRead ? before : { lastRead: s.lastRead, since: now }
        )
      }
      seen = next
      const oldestMs = Math.max(0, ...result.value.map((s) => s.ageMs))
      yield* Metric.set(Metrics.stalledMessageAge, oldestMs / 1000)
      const confirmed = result.value.filter((s) => now - seen.get(s.id)!.since >= confirm)
      if (confirmed.length === 0) continue
      const shards = [...new Set(confirmed.map((s) => s.shard))].sort()
      const oldestSeconds = Math.round(Math.max(...confirmed.map((s) => s.ageMs)) / 1000)
      const stall = new ClusterStalled({
        message:
          `cluster stall: ${confirmed.length} due message(s) on ${shards.length} of this runner's shards ` +
          `unread for longer than ${thresholdSeconds} s (the oldest ${oldestSeconds} s) and not being processed ` +
          "(Effect-TS/effect#6248); stopping so that a restart reads them again",
        messages: confirmed.length,
        oldestSeconds,
        shards
      })
      yield* report(stall)
      yield* Effect.logError(stall.message).pipe(
        Effect.annotateLogs({
          event: "cluster_stall",
          stalled_messages: stall.messages,
          oldest_seconds: stall.oldestSeconds,
          threshold_seconds: thresholdSeconds,
          shards: shards.slice(0, 20).join(",")
        })
      )
      yield* Effect.sleep(options.grace ?? Duration.seconds(5))
      // A shutdown that hangs (on the same storage trouble, say) must not keep a stalled runner alive.
      yield* Effect.sync(() => setTimeout(() => process.exit(1), 30_000).unref())
      return yield* stall
    }
  })
