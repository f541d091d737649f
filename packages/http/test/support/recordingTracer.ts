import { Effect, Tracer } from "effect"

/** A tracer that delegates to the current one and keeps every span, to read their names and attributes. */
export const recordingTracer = Effect.map(Effect.tracer, (inner) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = inner.span(...args)
      spans.push(span)
      return span
    },
    context: inner.context
  })
  return { tracer, spans }
})
