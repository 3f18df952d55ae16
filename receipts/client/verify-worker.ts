// A worker of verifyLogInWorkers (verify-workers.ts): checks the bundle ranges it is sent with the receipts
// core's checkBundleRange and sends back the outcome, its leaf-hash tiles moved rather than copied.
import { parentPort } from 'node:worker_threads';
import { checkBundleRange, type BundleRange } from '../verify-range.ts';

parentPort?.on('message', (m: { id: number; range: BundleRange }) => {
  try {
    const check = checkBundleRange(m.range);
    parentPort?.postMessage({ id: m.id, check }, check.bundles.map((b) => b.leaves.buffer as ArrayBuffer));
  } catch (e) {
    parentPort?.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) });
  }
});

// Loaded and listening: until every worker has said so, the pool checks ranges in its own thread (verify-workers.ts).
parentPort?.postMessage({ ready: true });
