/**
 * Verification of each measurement: which checksum keys each client reports for each
 * workload, and the check itself. A wrong answer is a {@link WrongAnswerError}, which fails
 * the whole run.
 */
import type { ThrowawayCluster } from '../spec/harness/throwaway-cluster';
import { verifyCopyTable, type ExpectedChecksums } from './bench-server';
import { checksumMismatches, type Checksum } from './checksums';
import type { Measurement } from './child-protocol';
import { copyTables, type ClientName, type WorkloadName } from './workloads';

/** A measurement whose result was not what the server holds: the benchmark run fails. */
export class WrongAnswerError extends Error {
  override readonly name = 'WrongAnswerError';
}

/**
 * The checksum keys a client's answer is checked on. Libraries report everything the workload
 * defines (for copy-in: the row count they were told, if any — the table itself is checked
 * separately); the bare socket counts rows and sums the first column; the C tools report
 * row counts; the server-alone aggregate reports the row count and the sum of the first column.
 */
export function verifiedKeys(workload: WorkloadName, client: ClientName, expected: Checksum): readonly string[] {
  if (workload === 'copy-in') return client === 'postgres' ? [] : ['rows'];
  switch (client) {
    case 'pgbench':
    case 'psql':
      return ['rows'];
    case 'server-alone':
      return ['rows', 'sumI'];
    case 'bare-socket':
      return workload === 'point-concurrent' || workload === 'point-seq' || workload === 'point-batch' ? ['rows', 'sum'] : ['rows', 'sumI'];
    default:
      return workload === 'stream-raw' ? ['rows', 'lengthI', 'lengthT', 'lengthTs', 'lengthF'] : Object.keys(expected);
  }
}

/** Where one measurement came from, for messages. */
export interface MeasurementOrigin {
  readonly workload: WorkloadName;
  readonly client: ClientName;
  readonly repetition: number;
  readonly size: number;
  readonly warmupSize: number;
}

/**
 * Checks a measurement's checksums (measured run and warm-up) and, for copy-in, the rows in
 * both target tables. Throws a {@link WrongAnswerError} that says what differs.
 */
export async function verifyMeasurement(
  origin: MeasurementOrigin,
  measurement: Measurement,
  expectedChecksums: ExpectedChecksums,
  cluster: ThrowawayCluster,
): Promise<void> {
  const { workload, client, repetition, size, warmupSize } = origin;
  const problems: string[] = [];
  const check = async (phase: string, runSize: number, actual: Checksum | undefined) => {
    const expected = await expectedChecksums.of(workload, runSize);
    const keys = verifiedKeys(workload, client, expected);
    const wanted = Object.fromEntries(keys.map((key) => [key, expected[key] ?? Number.NaN]));
    for (const problem of checksumMismatches(wanted, actual ?? {})) problems.push(`${phase}: ${problem}`);
  };
  await check('measured run', size, measurement.checksum);
  if (warmupSize > 0) await check('warm-up', warmupSize, measurement.warmupChecksum);
  if (workload === 'copy-in') {
    for (const problem of await verifyCopyTable(cluster, copyTables.measure, size))
      problems.push(`table ${copyTables.measure}: ${problem}`);
    if (warmupSize > 0) {
      for (const problem of await verifyCopyTable(cluster, copyTables.warmup, warmupSize))
        problems.push(`table ${copyTables.warmup}: ${problem}`);
    }
  }
  if (problems.length > 0) {
    throw new WrongAnswerError(`wrong answer from ${client} in ${workload} (repetition ${repetition}):\n  ${problems.join('\n  ')}`);
  }
}
