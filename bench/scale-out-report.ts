/**
 * The scale-out scenario's (bench/scale-out.ts) rows for the results table of BENCHMARKS.md and
 * its table of runs, in the shapes bench/run.ts reports every measure in.
 */
import { fmt } from './measure.js';
import { meanRate, type Ordering, type ScaleOutResult } from './scale-out.js';

/** Target of issue 12: aggregate deliveries/s with 4 processes at least this share of one process's. */
export const SCALE_OUT_TARGET_RATIO = 0.9;

type Row = [string, string, string, string, string];

/**
 * The scenario's rows for the results table (measure, result, target, verdict, other load), in
 * the shape bench/run.ts reports every measure. `otherLoad` formats a mean "other load" in cores.
 */
export function scaleOutRows(result: ScaleOutResult, otherLoad: (cores: number) => string): Row[] {
  const { config, runs } = result;
  const variant = config.variants[0].label;
  const mine = runs.filter((r) => r.variant === variant);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const of = (processes: number, ordering: Ordering) => mine.filter((r) => r.processes === processes && r.ordering === ordering);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const rows: Row[] = [];
  const backlog = `${fmt(config.events)} events × ${config.webhooks} webhooks`;
  for (const processes of config.processCounts) {
    const these = of(processes, 'none');
    rows.push([`6. Scale-out: backlog of ${backlog} drained by ${processes} worker process${processes > 1 ? 'es' : ''} (mean of ${these.length} runs)`,
      `${fmt(meanRate(result, processes, 'none'))} deliveries/s`, '—', '', otherLoad(mean(these.map((r) => r.otherCores)))]);
  }
  const most = Math.max(...config.processCounts);
  const least = Math.min(...config.processCounts);
  const ratio = meanRate(result, most, 'none') / meanRate(result, least, 'none');
  rows.push([`   Aggregate deliveries/s with ${most} processes / with ${least} (same run; no contention collapse)`, ratio.toFixed(2),
    `≥ ${SCALE_OUT_TARGET_RATIO}`, verdict(ratio >= SCALE_OUT_TARGET_RATIO), '']);
  const cold = (label: string) => config.processCounts.map((n) =>
    mean(runs.filter((r) => r.variant === label && r.processes === n && r.ordering === 'none').map((r) => r.coldPerSecond)));
  for (const { label } of config.variants) {
    const rates = cold(label);
    rows.push([`   (for reference${label === variant ? '' : `, ${label}`}) cold processes: the warm-up backlog (${fmt(config.warmUpPerProcess)} deliveries per ` +
      `process) from start() on, ${config.processCounts.join(' / ')} processes, and ${most} / ${least}`,
    `${rates.map((r) => fmt(r)).join(' / ')} deliveries/s; ${(rates[rates.length - 1] / rates[0]).toFixed(2)}`, '—', '', '']);
  }
  const withMost = mine.filter((r) => r.processes === most);
  const duplicates = withMost.reduce((n, r) => n + r.duplicates, 0);
  rows.push([`   Duplicate deliveries with ${most} processes (at the receiver, by webhook-id; ${withMost.length} runs) / with any count`,
    `${duplicates} / ${mine.reduce((n, r) => n + r.duplicates, 0)}`, '0', verdict(duplicates === 0), '']);
  for (const { label } of config.variants.slice(1)) {
    const rates = config.processCounts.map((n) => meanRate(result, n, 'none', label));
    rows.push([`   (before/after) the same drains with the plugin of ${label}: ${config.processCounts.join(' / ')} processes, and ${most} / ${least}`,
      `${rates.map((r) => fmt(r)).join(' / ')} deliveries/s; ${(meanRate(result, most, 'none', label) / meanRate(result, least, 'none', label)).toFixed(2)}`,
      '—', '', '']);
  }
  if (config.perSubject) {
    const ready = result.orderingInClaims === true;
    for (const processes of config.processCounts) {
      const ordered = of(processes, 'per_subject');
      if (ordered.length === 0) continue;
      const cost = 1 - meanRate(result, processes, 'per_subject') / meanRate(result, processes, 'none');
      const violations = ordered.reduce((n, r) => n + (r.orderViolations ?? 0), 0);
      rows.push([`   The same with ordering: 'per_subject' (${config.subjects} subjects), ${processes} process${processes > 1 ? 'es' : ''}: ` +
        `deliveries/s (cost vs none), deliveries started before the previous one about the subject ended`,
        `${fmt(meanRate(result, processes, 'per_subject'))}/s (${(cost * 100).toFixed(0)} %), ${violations}${ready ? '' : ' — ordering not in the claims yet'}`,
        '0 out of order', ready ? verdict(violations === 0) : '', otherLoad(mean(ordered.map((r) => r.otherCores)))]);
    }
  }
  return rows;
}

/** Every run of the scenario, for the Details section of BENCHMARKS.md. */
export function scaleOutDetails(result: ScaleOutResult): string {
  const { config } = result;
  const header = ['Run', 'Processes', 'Ordering', 'Deliveries/s', 'Cold: warm-up deliveries/s from start()', 'Duplicates', 'CPU cores: each worker process / PostgreSQL / receiver / other load',
    'Claims (empty) per process, mean claim ms'];
  const body = result.runs.map((r, i) => [
    `${i + 1}${config.variants.length > 1 ? ` (${r.variant})` : ''}`, String(r.processes), r.ordering, fmt(r.deliveriesPerSecond), fmt(r.coldPerSecond), String(r.duplicates),
    `${r.workerCores.map((c) => c.toFixed(2)).join(' + ')} / ${r.postgresCores?.toFixed(2) ?? 'n/a'} / ${r.receiverCores.toFixed(2)} / ${r.otherCores.toFixed(2)}`,
    r.activity.map((a) => `${a.claims} (${a.emptyClaims}), ${fmt(a.claimMs / Math.max(1, a.claims), 1)}`).join('; '),
  ]);
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map((row) => `| ${row.join(' | ')} |`)];
  const ordering = result.orderingInClaims === null ? ''
    : result.orderingInClaims ? '\n\nThe claims held back later deliveries about a subject (probed on a copy of the backlog before the runs).'
      : '\n\nPer-subject ordering was **not in place** in the claims when this ran (a probe claim on a copy of the backlog took several ' +
        'deliveries about one subject to one webhook): the per_subject rows measure the unordered claim with that setting.';
  return lines.join('\n') + ordering;
}
