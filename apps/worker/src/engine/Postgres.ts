/**
 * The cluster engine: `ClusterWorkflowEngine` on a `NodeClusterSocket` runner with SQL storage on
 * PostgreSQL. Any number of runner processes on any number of machines share the database; shards are
 * owned through PostgreSQL advisory locks (so each runner needs a session-stable connection: no
 * transaction-mode pooler) and move to a live runner when one stops or dies. Runners talk to each other
 * over TCP at their runner address. The workflow code is the same as on the embedded engine.
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"

export const defaultRunnerAddress = "localhost:34431"

export class BadRunnerAddress extends Data.TaggedError("InputError")<{ readonly message: string }> {}

export const parseRunnerAddress = (text: string): Either.Either<RunnerAddress.RunnerAddress, BadRunnerAddress> => {
  const match = /^([^:\s]+):(\d{1,5})$/.exec(text.trim())
  const port = match === null ? Number.NaN : Number(match[2])
  return match !== null && port > 0 && port < 65536
    ? Either.right(RunnerAddress.make(match[1]!, port))
    : Either.left(new BadRunnerAddress({ message: `--runner-address must be host:port, got ${text}` }))
}

export interface ClusterOptions {
  readonly url: Redacted.Redacted<string>
  readonly runnerAddress: RunnerAddress.RunnerAddress
  /** How long a dead runner's shards stay locked before others take them (default 35 s). */
  readonly shardLockExpiration?: Duration.DurationInput | undefined
}

/**
 * The shard layout, pinned here rather than left to the library's defaults (and its environment
 * variables) because it must be the same on every runner, and because the stall watchdog
 * (ClusterWatchdog) enumerates this runner's shards from it.
 */
export const shardGroup = "default"
export const shardsPerGroup = 300

export const postgres = (options: ClusterOptions) => {
  const client = PgClient.layer({ url: options.url, applicationName: "flex-worker" })
  const runner = NodeClusterSocket.layer({
    storage: "sql",
    runnerHealth: "ping",
    shardingConfig: {
      // It listens at its runner address too: the address must be one the other runners can reach.
      runnerAddress: Option.some(options.runnerAddress),
      shardsPerGroup,
      availableShardGroups: [shardGroup],
      assignedShardGroups: [shardGroup],
      entityMessagePollInterval: Duration.seconds(1),
      entityReplyPollInterval: Duration.millis(100),
      entityTerminationTimeout: Duration.seconds(10),
      entityMaxIdleTime: Duration.seconds(5),
      ...(options.shardLockExpiration === undefined ? {} : { shardLockExpiration: options.shardLockExpiration })
    }
  })
  return ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(runner), Layer.provideMerge(client))
}
