import type { Overview } from './api.ts'

/** Props of {@link AttestationChart}. */
export interface AttestationChartProps {
  readonly attestations: Overview['attestations']
}

const WIDTH = 600
const HEIGHT = 120

/**
 * Attestations over the last minutes as stacked bars (success, refused, error), from the
 * server's own counters, with the refusals of the whole window listed by code beneath — the
 * list, not the colours, carries the information for screen readers.
 */
export function AttestationChart({ attestations }: AttestationChartProps) {
  const { buckets, bucket_seconds: bucketSeconds } = attestations
  const totals = buckets.map((bucket) => {
    const refused = Object.values(bucket.refused).reduce((sum, count) => sum + count, 0)
    return { ...bucket, refusedTotal: refused, total: bucket.success + refused + bucket.error }
  })
  const max = Math.max(1, ...totals.map((bucket) => bucket.total))
  const slots = Math.max(totals.length, 30)
  const barWidth = WIDTH / slots
  const refusedByCode = new Map<string, number>()
  for (const bucket of buckets) {
    for (const [code, count] of Object.entries(bucket.refused)) {
      refusedByCode.set(code, (refusedByCode.get(code) ?? 0) + count)
    }
  }
  const sum = (pick: (bucket: (typeof totals)[number]) => number) =>
    totals.reduce((total, bucket) => total + pick(bucket), 0)
  const minutes = Math.round((buckets.length * bucketSeconds) / 60)
  return (
    <figure class="chart">
      <figcaption>
        Attestations, last {minutes < 1 ? `${buckets.length * bucketSeconds} s` : `${minutes} min`} (
        {bucketSeconds} s per bar): <span class="swatch success" /> {sum((b) => b.success)} succeeded,{' '}
        <span class="swatch refused" /> {sum((b) => b.refusedTotal)} refused, <span class="swatch error" />{' '}
        {sum((b) => b.error)} failed
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label="Attestations per interval"
        preserveAspectRatio="none"
      >
        {totals.map((bucket, index) => {
          const x = (slots - totals.length + index) * barWidth
          const scale = (count: number) => (count / max) * (HEIGHT - 4)
          const success = scale(bucket.success)
          const refused = scale(bucket.refusedTotal)
          const error = scale(bucket.error)
          return (
            <g key={bucket.start}>
              <title>
                {`${bucket.start.slice(11, 19)} UTC: ${bucket.success} succeeded, ${bucket.refusedTotal} refused, ${bucket.error} failed`}
              </title>
              <rect
                class="bar success"
                x={x + 1}
                width={barWidth - 2}
                y={HEIGHT - success}
                height={success}
              />
              <rect
                class="bar refused"
                x={x + 1}
                width={barWidth - 2}
                y={HEIGHT - success - refused}
                height={refused}
              />
              <rect
                class="bar error"
                x={x + 1}
                width={barWidth - 2}
                y={HEIGHT - success - refused - error}
                height={error}
              />
            </g>
          )
        })}
      </svg>
      {refusedByCode.size > 0 ? (
        <ul class="refusals" aria-label="Refusals by code">
          {[...refusedByCode].map(([code, count]) => (
            <li key={code}>
              <code>{code}</code>: {count}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  )
}
