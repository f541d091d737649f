/**
 * Fault injection: the per-request draw from the seeded generator and the token bucket.
 *
 * Every request draws exactly three numbers (which fault, which error status, how much latency),
 * whatever the outcome, so the sequence of faults depends only on the seed, the profile and the order
 * of arrival. The token bucket runs on the real clock, so rate limiting is the one fault that depends
 * on timing.
 *
 * @internal
 */
import * as FaultProfile from "../FaultProfile.js"
import * as Prng from "./prng.js"

/** The faults decided by the draw (the rate limit is not drawn). */
export type Drawn = Exclude<FaultProfile.Fault, "rate_limit">

export interface Decision {
  readonly fault: Drawn | null
  readonly errorStatus: 500 | 502 | 503
  readonly latencyMs: number
}

class TokenBucket {
  private tokens: number
  private last: number
  private readonly burst: number
  private readonly perMs: number

  constructor(private readonly limit: FaultProfile.RateLimit) {
    this.burst = limit.burst ?? Math.max(1, Math.floor(limit.requests_per_second))
    this.perMs = limit.requests_per_second / 1000
    this.tokens = this.burst
    this.last = performance.now()
  }

  /** 0 when the request may go ahead, else the whole seconds until a token is there (at least 1). */
  take(): number {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.limit.requests_per_second))
  }
}

type Table = Readonly<Record<FaultProfile.Endpoint | "other", FaultProfile.Resolved>>

export class Injector {
  private rng: Prng.Prng
  private table!: Table
  private bucket: TokenBucket | null = null
  private current!: FaultProfile.FaultProfile

  constructor(
    private readonly seed: number,
    profile: FaultProfile.FaultProfile
  ) {
    this.rng = Prng.make(seed, "faults")
    this.set(profile)
  }

  get profile(): FaultProfile.FaultProfile {
    return this.current
  }

  /** A new profile; the draw sequence goes on where it was. A new rate limit starts with a full bucket. */
  set(profile: FaultProfile.FaultProfile): void {
    this.current = profile
    this.table = {
      retrieve: FaultProfile.settingsFor(profile, "retrieve"),
      list: FaultProfile.settingsFor(profile, "list"),
      cancel: FaultProfile.settingsFor(profile, "cancel"),
      other: FaultProfile.settingsFor(profile)
    }
    const limit = profile.rate_limit
    this.bucket = limit == null ? null : new TokenBucket(limit)
  }

  /** Back to the start of the seed's sequence, with this profile. */
  reset(profile: FaultProfile.FaultProfile): void {
    this.rng = Prng.make(this.seed, "faults")
    this.set(profile)
  }

  decide(endpoint: FaultProfile.Endpoint | undefined): Decision {
    const s = this.table[endpoint ?? "other"]
    const which = this.rng.next()
    const statusDraw = this.rng.next()
    const latencyDraw = this.rng.next()
    let fault: Drawn | null = null
    let edge = 0
    for (const [name, rate] of [
      ["reset", s.reset_rate],
      ["hang", s.hang_rate],
      ["html_502", s.html_502_rate],
      ["server_error", s.error_rate],
      ["malformed_json", s.malformed_rate],
      ["commit_then_drop", s.commit_then_drop_rate]
    ] as const) {
      edge += rate
      if (which < edge) {
        fault = name
        break
      }
    }
    const { min_ms, max_ms } = s.latency
    return {
      fault,
      errorStatus: s.error_statuses[Math.floor(statusDraw * s.error_statuses.length)]!,
      latencyMs: min_ms + Math.floor(latencyDraw * (max_ms - min_ms + 1))
    }
  }

  /** The token bucket's verdict for one request: 0 to go ahead, else `Retry-After` seconds. */
  take(): number {
    return this.bucket === null ? 0 : this.bucket.take()
  }
}
