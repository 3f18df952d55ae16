// gcs-storage.ts moved to server/ (the server anchors to GCS; the log and audit commands read from it). This
// re-export keeps cli/audit/'s import working until it imports from server/ directly.
export { gcsBucket } from '../server/index.ts';
