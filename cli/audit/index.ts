export * from './audit-command.ts';
export * from './audit-model.ts';
export { AuditFold, CHANGE_LIMIT, LIST_LIMIT, type AuditFoldOptions, type SampleCandidate } from '../../ledger/index.ts';
export * from './audit-html.ts';
export * from './audit-scope.ts';
