/**
 * The results chart: an SVG built by hand from a {@link BenchReport}. One group of bars per
 * workload, one bar per client, each bar's height its throughput relative to the fastest
 * client of that workload (so that rows/s and queries/s share one axis); the absolute
 * throughput is written on each bar.
 */
import { formatRate, type BenchReport, type ClientResult } from './report';
import { clientOrder, type ClientName } from './workloads';

const colours: Readonly<Record<ClientName, string>> = {
  rxpg: '#d9480f',
  pg: '#1c7ed6',
  postgres: '#2f9e44',
  'bare-socket': '#495057',
  pgbench: '#868e96',
  psql: '#adb5bd',
  'server-alone': '#343a40',
};

const legendLabels: Readonly<Record<ClientName, string>> = {
  rxpg: 'rxpg',
  pg: 'pg 8 (+ pg-query-stream / pg-copy-streams)',
  postgres: 'postgres.js 3',
  'bare-socket': 'limit: bare socket',
  pgbench: 'limit: pgbench',
  psql: 'limit: psql \\copy',
  'server-alone': 'limit: server alone (aggregate, nothing sent)',
};

const barWidth = 24;
const barGap = 4;
const groupGap = 34;
/** Wide enough for the longest workload name under its group. */
const minGroupWidth = 124;
const plotTop = 92;
const plotHeight = 280;
const left = 56;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders the chart; the result is a complete SVG document. */
export function renderChart(report: BenchReport): string {
  const groups = report.workloads.map((workload) => ({
    workload,
    bars: [...workload.results].sort((a, b) => clientOrder.indexOf(a.client) - clientOrder.indexOf(b.client)),
  }));
  const barsWidths = groups.map((group) => group.bars.length * (barWidth + barGap) - barGap);
  const groupWidths = barsWidths.map((barsWidth) => Math.max(barsWidth, minGroupWidth));
  const width = left + groupWidths.reduce((sum, groupWidth) => sum + groupWidth + groupGap, 0) + 24;
  const height = plotTop + plotHeight + 70;
  const baseline = plotTop + plotHeight;
  const parts: string[] = [];

  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const date = report.finishedAt.slice(0, 10);
  parts.push(
    `<text x="${left}" y="24" font-size="15" font-weight="bold">rxpg vs pg vs postgres.js: throughput per workload (1.0 = fastest client of the workload)</text>`,
    `<text x="${left}" y="42" font-size="11" fill="#495057">${escapeXml(
      `medians of ${report.repetitions} repetitions (${report.mode} run), ${date}, ${report.machine.cpus} cores, ${report.machine.cpuModel}; PostgreSQL ${report.machine.postgres}, Node ${report.machine.node}; shared, noisy machine`,
    )}</text>`,
  );

  // Legend: only the clients that appear.
  const present = clientOrder.filter((client) => groups.some((group) => group.bars.some((bar) => bar.client === client)));
  let legendX = left;
  for (const client of present) {
    parts.push(`<rect x="${legendX}" y="56" width="12" height="12" fill="${colours[client]}"/>`);
    parts.push(`<text x="${legendX + 16}" y="66" font-size="11">${escapeXml(legendLabels[client])}</text>`);
    legendX += 28 + legendLabels[client].length * 6;
  }

  // Grid and axis.
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const y = baseline - fraction * plotHeight;
    parts.push(
      `<line x1="${left}" x2="${width - 16}" y1="${y}" y2="${y}" stroke="${fraction === 0 ? '#343a40' : '#dee2e6'}" stroke-width="1"/>`,
    );
    parts.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end" fill="#495057">${fraction.toFixed(2)}</text>`);
  }

  let x = left + groupGap / 2;
  groups.forEach((group, index) => {
    const best = Math.max(0, ...group.bars.map((bar) => bar.throughput ?? 0));
    const firstBar = x + ((groupWidths[index] ?? 0) - (barsWidths[index] ?? 0)) / 2;
    group.bars.forEach((bar, position) => parts.push(...renderBar(bar, firstBar + position * (barWidth + barGap), baseline, best)));
    const centre = x + (groupWidths[index] ?? 0) / 2;
    parts.push(
      `<text x="${centre}" y="${baseline + 18}" font-size="11" font-weight="bold" text-anchor="middle">${escapeXml(group.workload.name)}</text>`,
    );
    parts.push(
      `<text x="${centre}" y="${baseline + 32}" font-size="10" text-anchor="middle" fill="#495057">${escapeXml(`${formatRate(group.workload.size)} ${group.workload.unit}`)}</text>`,
    );
    x += (groupWidths[index] ?? 0) + groupGap;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    ...parts.map((part) => `  ${part}`),
    '</svg>',
    '',
  ].join('\n');
}

/** One bar with its absolute throughput written vertically above it, or "n/a". */
function renderBar(bar: ClientResult, x: number, baseline: number, best: number): string[] {
  if (bar.throughput === null || best === 0) {
    return [`<text x="${x + barWidth / 2}" y="${baseline - 4}" font-size="9" text-anchor="middle" fill="#868e96">n/a</text>`];
  }
  const barHeight = Math.max(1, (bar.throughput / best) * plotHeight);
  const top = baseline - barHeight;
  const title = `${bar.label}: ${formatRate(bar.throughput)}/s, median ${bar.medianMs?.toFixed(1)} ms`;
  const labelX = x + barWidth / 2 + 3;
  // Tall bars carry their number inside (white, reading upwards to the top), short ones above.
  const inside = barHeight > 52;
  const labelY = inside ? top + 4 : top - 4;
  const labelStyle = inside ? 'text-anchor="end" fill="#ffffff"' : 'fill="#212529"';
  return [
    `<rect x="${x}" y="${top.toFixed(1)}" width="${barWidth}" height="${barHeight.toFixed(1)}" fill="${colours[bar.client]}"><title>${escapeXml(title)}</title></rect>`,
    `<text x="${labelX}" y="${labelY.toFixed(1)}" font-size="9" ${labelStyle} transform="rotate(-90 ${labelX} ${labelY.toFixed(1)})">${escapeXml(formatRate(bar.throughput))}</text>`,
  ];
}
