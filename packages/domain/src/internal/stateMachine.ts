/**
 * A status state machine as data: a transition table plus the pure functions every machine needs.
 *
 * @internal
 */

export interface StateMachine<S extends string> {
  readonly statuses: ReadonlyArray<S>
  readonly transitions: { readonly [K in S]: ReadonlyArray<S> }
  readonly canTransition: (from: S, to: S) => boolean
  readonly isTerminal: (status: S) => boolean
}

export const make = <S extends string>(transitions: { readonly [K in S]: ReadonlyArray<S> }): StateMachine<S> => {
  const statuses = Object.keys(transitions) as Array<S>
  const allowed = new Map(statuses.map((from) => [from, new Set(transitions[from])]))
  return {
    statuses,
    transitions,
    canTransition: (from, to) => allowed.get(from)?.has(to) ?? false,
    isTerminal: (status) => transitions[status].length === 0
  }
}
