// The layering of docs/adr/0013-layers-point-inward.md as lint: each folder may import only the folders below it.
// From the bottom: crds/ and readiness/ (nothing of ours); governor/ (crds/ only); receipts/ core (nothing of
// ours), then its I/O edges: its log client receipts/client/ (reads a published log: the core only), store/
// (the core only) and anchor/ (the core, client/ and store/); counters/ (governor/ only: the shared counters on
// Redis/Valkey); recording/ (governor/, crds/, the receipts core and
// store/, no Hono); ledger/ (the reading of a log the audit report and the dashboard share: governor/, crds/ and
// the receipts core, no I/O); kube/ (nothing of ours); operator/ and http/ (the Hono app, with admission/ under it), peers
// that never import each other; client/; server/ (the server `tai serve` starts: any of those but client/); cli/
// at the top. Nothing but cli/ (and tests) imports server/. Shipped code never imports test/, bench/ or hack/.
// Tests sit beside the code but are not part of it: they may import anything.
// ESLint keeps only the last no-restricted-imports setting that matches a file, so the file globs below do not
// overlap and each object lists everything forbidden to its files.

const ADR = 'docs/adr/0013-layers-point-inward.md';
const TESTS = ['**/*.test.ts', '**/*.test-helper.ts'];

/** Shipped code never reaches into the repository's test, benchmark or script folders. */
const SUPPORT = { regex: '^(\\.\\./)+(test|bench|hack)/', message: `shipped code does not import test/, bench/ or hack/ (${ADR}).` };

/** The I/O that pure folders leave to the edges (conventions: nothing in governor/ imports Hono, the Kubernetes client, GCS or node:fs). */
const IO = {
  regex: '^(node:)?(fs|fs/promises|net|http|https|http2|tls|child_process)$|^(hono|@hono/.*|hono/.*|@kubernetes/client-node|@google-cloud/storage|undici)$',
  message: `a pure folder does no I/O: the filesystem, the network, Hono, the Kubernetes client and GCS belong to the edges (${ADR}).`,
};

/** No import of ours leaves the folder (`../…`). */
const SELF_CONTAINED = (folder) => ({ regex: '^\\.\\./', message: `${folder} sits at the bottom and imports nothing of ours outside itself (${ADR}).` });

/** Each folder's rules: the files, and the import patterns they may not use. */
const LAYERS = [
  { files: ['crds/**/*.ts'], patterns: [SELF_CONTAINED('crds/'), IO] },
  { files: ['readiness/**/*.ts'], patterns: [SELF_CONTAINED('readiness/'), IO] },
  { files: ['kube/**/*.ts'], patterns: [SELF_CONTAINED('kube/')] },
  { files: ['governor/**/*.ts'], patterns: [{ regex: '^\\.\\./(?!crds/)', message: `governor/ imports nothing of ours but crds/ (${ADR}).` }, IO] },
  {
    // The shared counters' Redis/Valkey edge: the governor's SharedCounters and SharedAnswers over ioredis.
    files: ['counters/**/*.ts'],
    patterns: [{ regex: '^\\.\\./(?!governor/)', message: `counters/ imports nothing of ours but governor/ (the interfaces it implements); server/ assembles it (${ADR}).` }, SUPPORT],
  },
  {
    files: ['receipts/*.ts'],
    patterns: [
      { regex: '^\\./(store|anchor|client)/', message: `the receipts core does not import its I/O edges store/, anchor/ and client/; they import it (${ADR}).` },
      { regex: '^\\.\\./', message: `the receipts core imports nothing of ours outside receipts/ (${ADR}).` },
      IO,
    ],
  },
  {
    files: ['receipts/store/**/*.ts'],
    patterns: [
      { regex: '^\\.\\./(anchor|client)/', message: `receipts/store/ does not import receipts/anchor/, which builds on it, nor the log client (${ADR}).` },
      { regex: '^\\.\\./\\.\\./', message: `receipts/store/ imports only the receipts core (${ADR}).` },
    ],
  },
  {
    // The log client reads a published log: the receipts core, and the filesystem and HTTP (node:fs, fetch or
    // undici); not store/ or anchor/ (the writers), nor Cloud Storage, whose one client stays in server/.
    files: ['receipts/client/**/*.ts'],
    patterns: [
      { regex: '^\\.\\./(store|anchor)/', message: `receipts/client/ reads a published log through the receipts core, not store/ or anchor/ (${ADR}).` },
      { regex: '^\\.\\./\\.\\./', message: `receipts/client/ imports only the receipts core (${ADR}).` },
      { regex: '^@google-cloud/storage$', message: `receipts/client/ does not make a Cloud Storage client: server/gcs-storage.ts does (${ADR}).` },
    ],
  },
  { files: ['receipts/anchor/**/*.ts'], patterns: [{ regex: '^\\.\\./\\.\\./', message: `receipts/anchor/ imports only the receipts core, client/ and store/ (${ADR}).` }] },
  {
    files: ['recording/**/*.ts'],
    patterns: [
      { regex: '^\\.\\./(?!(governor|crds)/|receipts/(?!anchor/))', message: `recording/ imports nothing of ours but governor/, crds/ and the receipts core and store/ (${ADR}).` },
      { regex: '^(hono|@hono/.*|hono/.*)$', message: `recording/ is below the HTTP app and does not import Hono (${ADR}).` },
    ],
  },
  {
    // The reading of a verified log shared by cli/audit/ and the dashboard in http/: pure folds over entries.
    files: ['ledger/**/*.ts'],
    patterns: [{ regex: '^\\.\\./(?!(governor|crds)/|receipts/[^/]+$)', message: `ledger/ imports nothing of ours but governor/, crds/ and the receipts core (${ADR}).` }, IO],
  },
  { files: ['operator/**/*.ts'], patterns: [{ regex: '^(\\.\\./)+(http|client|counters|server|cli)/', message: `operator/ does not import http/, client/, counters/, server/ or cli/: server/ assembles them (${ADR}).` }, SUPPORT] },
  { files: ['http/**/*.ts'], patterns: [{ regex: '^(\\.\\./)+(operator|client|counters|server|cli)/', message: `http/ does not import operator/, client/, counters/, server/ or cli/: server/ assembles them (${ADR}).` }, SUPPORT] },
  { files: ['client/**/*.ts'], patterns: [{ regex: '^(\\.\\./)+(operator|kube|counters|server|cli)/', message: `client/ talks HTTP to the server and does not import operator/, kube/, counters/, server/ or cli/ (${ADR}).` }, SUPPORT] },
  { files: ['server/**/*.ts'], patterns: [{ regex: '^(\\.\\./)+(client|cli)/', message: `server/ does not import client/ or cli/: cli/ parses the arguments and starts it (${ADR}).` }, SUPPORT] },
  { files: ['cli/**/*.ts', 'index.ts'], patterns: [SUPPORT] },
];

/** Flat-config objects, one per folder; eslint.config.js spreads them, test/layers.test.ts lints fixtures with them. */
export const layers = LAYERS.map(({ files, patterns }) => ({
  files,
  ignores: TESTS,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
}));
