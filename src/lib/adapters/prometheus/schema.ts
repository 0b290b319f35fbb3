/**
 * Prometheus HTTP API v1 shapes (servers 2.42 to 3.x), only the fields cimops uses.
 * See reference/prometheus-alertmanager.md section 3 and server-versions.md "Prometheus 3".
 */
import * as z from 'zod'

export const Labels = z.record(z.string(), z.string())
export type Labels = z.infer<typeof Labels>

const SPECIAL_VALUES: Record<string, number> = {NaN: Number.NaN, '+Inf': Number.POSITIVE_INFINITY, '-Inf': Number.NEGATIVE_INFINITY}

/** Sample values travel as strings so NaN and ±Inf survive JSON; Number('+Inf') would give NaN. */
export const SampleValue = z.string().transform((text, ctx) => {
  if (text in SPECIAL_VALUES) return SPECIAL_VALUES[text]
  const value = Number(text)
  if (text.trim() === '' || Number.isNaN(value)) {
    ctx.addIssue({code: 'custom', message: `not a sample value: "${text}"`})
    return z.NEVER
  }
  return value
})

/** `[<unix seconds>, "<value>"]` on the wire. */
export const Sample = z.tuple([z.number(), SampleValue]).transform(([time, value]) => ({time, value}))
export type Sample = z.infer<typeof Sample>

/*
 * A native histogram sample comes as `histogram` (vector) or `histograms` (matrix) instead of
 * `value`/`values`. cimops reads float samples only, so those are dropped here: a series holding
 * nothing else is left out of the result, not a parse failure.
 */

export const VectorSample = z.object({metric: Labels, value: Sample}).transform(({metric, value}) => ({metric, ...value}))
export type VectorSample = z.infer<typeof VectorSample>

const Vector = z
  .array(z.object({metric: Labels, value: Sample.optional()}))
  .transform((entries) => entries.flatMap(({metric, value}): VectorSample[] => (value ? [{metric, ...value}] : [])))

export const RangeSeries = z.object({metric: Labels, values: z.array(Sample)})
export type RangeSeries = z.infer<typeof RangeSeries>

const Matrix = z
  .array(z.object({metric: Labels, values: z.array(Sample).default([])}))
  .transform((series) => series.filter((entry): entry is RangeSeries => entry.values.length > 0))

export const QueryData = z.discriminatedUnion('resultType', [
  z.object({resultType: z.literal('vector'), result: Vector}),
  z.object({resultType: z.literal('matrix'), result: Matrix}),
  z.object({resultType: z.literal('scalar'), result: Sample}),
  z.object({
    resultType: z.literal('string'),
    result: z.tuple([z.number(), z.string()]).transform(([time, value]) => ({time, value})),
  }),
])
export type QueryData = z.infer<typeof QueryData>

export const MatrixData = z.object({resultType: z.literal('matrix'), result: Matrix})
export type MatrixData = z.infer<typeof MatrixData>

export const BuildInfo = z.object({version: z.string(), revision: z.string(), branch: z.string(), goVersion: z.string()})
export type BuildInfo = z.infer<typeof BuildInfo>

export const Target = z.object({
  /** The scrape job's name (`job_name`), also what `/api/v1/targets?scrapePool=` filters on. */
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  labels: Labels,
  health: z.enum(['up', 'down', 'unknown']),
  lastError: z.string(),
  /** RFC 3339; the zero time `0001-01-01T00:00:00Z` before the first scrape. */
  lastScrape: z.string(),
  /** Seconds. */
  lastScrapeDuration: z.number(),
})
export type Target = z.infer<typeof Target>

export const DroppedTarget = z.object({discoveredLabels: Labels})
export type DroppedTarget = z.infer<typeof DroppedTarget>

export const Targets = z.object({activeTargets: z.array(Target).default([]), droppedTargets: z.array(DroppedTarget).default([])})
export type Targets = z.infer<typeof Targets>

/** An alert as listed by /api/v1/alerts and inside an alerting rule. */
export const Alert = z.object({
  labels: Labels,
  annotations: Labels,
  state: z.enum(['pending', 'firing', 'inactive']),
  /** RFC 3339; absent for an alert that was never active. */
  activeAt: z.string().optional(),
  value: SampleValue,
})
export type Alert = z.infer<typeof Alert>

const RuleHealth = z.enum(['ok', 'err', 'unknown'])

export const AlertingRule = z.object({
  type: z.literal('alerting'),
  name: z.string(),
  health: RuleHealth,
  lastError: z.string().optional(),
  state: z.enum(['pending', 'firing', 'inactive']),
  labels: Labels.default({}),
  annotations: Labels.default({}),
  alerts: z.array(Alert).default([]),
})
export type AlertingRule = z.infer<typeof AlertingRule>

export const RecordingRule = z.object({
  type: z.literal('recording'),
  name: z.string(),
  health: RuleHealth,
  lastError: z.string().optional(),
  labels: Labels.default({}),
})
export type RecordingRule = z.infer<typeof RecordingRule>

export const Rule = z.discriminatedUnion('type', [AlertingRule, RecordingRule])
export type Rule = z.infer<typeof Rule>

export const RuleGroup = z.object({name: z.string(), file: z.string(), rules: z.array(Rule)})
export type RuleGroup = z.infer<typeof RuleGroup>

/** One page of groups; `groupNextToken` (3.x, only when asked for with `group_limit`) names the next one. */
export const RuleGroups = z.object({groups: z.array(RuleGroup), groupNextToken: z.string().optional()})

export const Alerts = z.object({alerts: z.array(Alert)})

/** `{status, data, errorType, error, warnings, infos}` (`infos` since 2.54); `data` is checked per endpoint. */
export const Envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).default([]),
  infos: z.array(z.string()).default([]),
})
