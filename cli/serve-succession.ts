// `tai serve --succeeds`: the log a new log succeeds (the Cloud Run instance before this one, the replica whose
// disk was replaced), recorded with its last checkpoint in the new log's first entry, a lifecycle start, so that
// `tai log verify` over the deployment finds a missing or rewritten log (docs/audit.md).
import { toHex, type PredecessorInput } from '../receipts/index.ts';
import { anchoredOrigins, readCheckpointFile } from '../receipts/client/index.ts';
import { gcsBucket, LOG_ID, LOG_ID_TOKEN, type ServerOptions } from '../server/index.ts';
import { stringOption, UsageError, type CommandIO } from './io.ts';
import { logReader } from './log-source.ts';

/** `--succeeds previous`: the latest `{log}` origin anchored before this one under the same --gcs prefix. */
export const PREVIOUS = 'previous';

/** What --succeeds asks the server (only when its log is new); undefined without the flag. */
export function predecessorOf(values: Record<string, unknown>, io: CommandIO): ServerOptions['predecessor'] {
  const succeeds = stringOption(values, 'succeeds');
  if (succeeds === undefined) return undefined;
  const gcs = stringOption(values, 'gcs');
  const endpoint = stringOption(values, 'gcs-endpoint');
  if (succeeds !== PREVIOUS) {
    logReader(succeeds, { gcsEndpoint: endpoint }); // the location's form, checked now as usage
    return async () => announce(io, await checkpointOf(succeeds, endpoint));
  }
  const template = stringOption(values, 'origin') ?? '';
  if (gcs === undefined || !template.includes(LOG_ID_TOKEN)) throw new UsageError(`--succeeds ${PREVIOUS} goes with --gcs gs://BUCKET/PREFIX and an --origin with ${LOG_ID_TOKEN} (each new log's name)`);
  return async (origin) => {
    const previous = await previousOrigin({ gcs, endpoint, template, origin });
    if (previous === undefined) return (io.out(`tai: --succeeds ${PREVIOUS}: no earlier log under ${gcs} matches ${template}: this log succeeds none`), undefined);
    return announce(io, await checkpointOf(`${gcs.replace(/\/+$/, '')}/${previous}`, endpoint));
  };
}

function announce(io: CommandIO, p: PredecessorInput): PredecessorInput {
  io.out(`tai: this log succeeds ${p.origin} at its checkpoint of ${p.size} entries (root ${p.root}), recorded in entry 0`);
  return p;
}

/** The predecessor's latest published checkpoint, read as is: the auditor verifies it against that log. */
async function checkpointOf(location: string, endpoint: string | undefined): Promise<PredecessorInput> {
  const file = await readCheckpointFile(logReader(location, { gcsEndpoint: endpoint }), { verifierKey: undefined }).catch((e: unknown) => {
    throw new UsageError(`--succeeds ${location}: cannot read its checkpoint: ${(e as Error).message}`);
  });
  if (file === undefined) throw new UsageError(`--succeeds ${location}: no checkpoint there (nothing published, or not a log)`);
  if ('invalid' in file) throw new UsageError(`--succeeds ${location}: its checkpoint is malformed: ${file.invalid.message}`);
  return { origin: file.checkpoint.origin, size: file.checkpoint.size, root: toHex(file.checkpoint.root) };
}

/** Of the origins `template` makes ({log} a log id), the latest whose id sorts before this log's own. */
async function previousOrigin(o: { gcs: string; endpoint: string | undefined; template: string; origin: string }): Promise<string | undefined> {
  const [head = '', tail = ''] = o.template.split(LOG_ID_TOKEN);
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const shape = new RegExp(`^${escape(head)}(${LOG_ID.source.replace(/^\^|\$$/g, '')})${escape(tail)}$`);
  const own = shape.exec(o.origin)?.[1] ?? '';
  const origins = await anchoredOrigins(gcsBucket(o.gcs, o.endpoint), head).catch((e: unknown) => {
    throw new UsageError(`--succeeds ${PREVIOUS}: cannot list ${o.gcs}: ${(e as Error).message}`);
  });
  const earlier = origins.map((origin) => ({ origin, id: shape.exec(origin)?.[1] })).filter((c) => c.id !== undefined && c.id < own);
  return earlier.at(-1)?.origin;
}
