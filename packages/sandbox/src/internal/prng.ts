/**
 * A small seeded pseudo-random generator (mulberry32), so one seed gives the same intents, IDs and
 * fault sequence on every run and every machine. Not for secrets: nothing in the sandbox is one.
 *
 * @internal
 */

export interface Prng {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  /** An integer in [min, max], both included. */
  readonly between: (min: number, max: number) => number
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** True with probability p. */
  readonly chance: (p: number) => boolean
}

// FNV-1a, so each named stream ("faults", "data", …) starts from its own state for the same seed and
// drawing more from one stream never shifts another.
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A generator for one named stream of a seed. Any safe integer seed works, negative ones included. */
export const make = (seed: number, stream: string): Prng => {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 4294967296) >>> 0
  let state = (hash(stream) ^ lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    pick: (items) => items[int(items.length)]!,
    chance: (p) => next() < p
  }
}
