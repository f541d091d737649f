/**
 * Measuring helpers shared by the cases: medians, percentiles, and a micro-benchmark loop that runs
 * every candidate side by side (interleaved, round after round) so that a disturbance of the machine
 * hits them all alike.
 */

export const median = (values: ReadonlyArray<number>): number => percentile(values, 50)

/** Nearest-rank percentile of unsorted values. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export interface MicroOptions {
  /** Untimed time per candidate before the first round, in ms. */
  readonly warmupMs: number
  /** Timed rounds; the result is the median over them. */
  readonly rounds: number
  /** Time per candidate per round, in ms. */
  readonly roundMs: number
}

export interface MicroResult {
  readonly name: string
  /** Median over the rounds of the mean time per operation, in µs. */
  readonly us: number
  /** Every round's µs per operation. */
  readonly roundsUs: ReadonlyArray<number>
}

/** Keeps results alive so the JIT cannot drop the work. */
let sink: unknown
export const consume = (value: unknown): void => {
  sink = value
}
export const sinkValue = (): unknown => sink

const runFor = (fn: () => unknown, ms: number): number => {
  // Batches of operations between clock reads, so reading the clock costs nothing measurable.
  let batch = 16
  let ops = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) consume(fn())
    ops += batch
    now = performance.now()
    if (now - start < ms / 20) batch *= 2
  }
  return ((now - start) * 1000) / ops
}

/** Runs synchronous candidates interleaved: warm-up, then `rounds` rounds of each in turn. */
export const micro = (
  candidates: ReadonlyArray<{ readonly name: string; readonly fn: () => unknown }>,
  options: MicroOptions
): ReadonlyArray<MicroResult> => {
  for (const candidate of candidates) runFor(candidate.fn, options.warmupMs)
  const rounds = candidates.map(() => [] as Array<number>)
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order every round: no candidate always runs right after the same other one.
    for (let k = 0; k < candidates.length; k++) {
      const i = (k + round) % candidates.length
      rounds[i]!.push(runFor(candidates[i]!.fn, options.roundMs))
    }
  }
  return candidates.map((candidate, i) => ({ name: candidate.name, us: median(rounds[i]!), roundsUs: rounds[i]! }))
}

export const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || Number.isNaN(n)
    ? "n/a"
    : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
