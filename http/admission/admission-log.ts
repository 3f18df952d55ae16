import { toHex } from '../../receipts/index.ts';
import type { ReceiptLog } from '../../receipts/store/index.ts';
import type { AdmissionApiOptions } from './admission-api.ts';

/**
 * The admission webhook's link to the receipt log: reviews are refused before they are decided while the log
 * cannot write, and each verdict is appended in the turn it is decided, answered once durable in sync durability.
 */
export function admissionLog(log: ReceiptLog): Pick<AdmissionApiOptions, 'checkWritable' | 'record'> {
  return {
    checkWritable: () => log.checkWritable(),
    record: async (body) => {
      const appended = log.append('admission', body);
      if (log.durability === 'sync') await appended.durable;
      return { index: appended.index, leafHash: toHex(appended.leafHash) };
    },
  };
}
