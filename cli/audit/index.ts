export * from './audit-command.ts';
export * from './audit-model.ts';
export * from './audit-fold.ts';
export * from './audit-html.ts';
export * from './audit-scope.ts';
