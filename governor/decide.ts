// The decisions of design §3/§4, one file per operation.
export * from './decide-types.ts';
export * from './decide-check.ts';
export * from './decide-consume.ts';
export * from './decide-rate.ts';
export * from './decision-input-error.ts';
