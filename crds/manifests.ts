import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { kindInfo } from './kinds.ts';
import { API_VERSION, FORBIDDEN_KEYS } from './meta.ts';
import type { Quota } from './quota.ts';
import type { Sku } from './sku.ts';
import type { Tenant } from './tenant.ts';

export type TaiResource = Sku | Tenant | Quota;
export type TaiKind = TaiResource['kind'];

/** Where a resource or an error came from: a file and a 1-based line. */
export interface SourceRef {
  file: string;
  line?: number;
}

/** A precise, user-facing problem: file, line, field path, what is wrong and what to do. */
export interface PolicyError extends SourceRef {
  /** Dotted field path inside the document, e.g. `spec.quotas.api-calls.limit`; empty for the whole document. */
  path: string;
  message: string;
  /** The resource the error belongs to, as `Kind/name`, when known. */
  resource?: string;
}

export interface SourcedResource {
  resource: TaiResource;
  source: SourceRef;
  /** The line of a dotted field path inside the resource's document (compile errors point at their field). */
  lineOf?: (path: string) => number | undefined;
}

export interface ParsedManifests {
  resources: SourcedResource[];
  errors: PolicyError[];
}

/** `Kind/name`: how resources are named in errors, provenance and receipts. */
export function resourceKey(r: { kind: string; metadata: { name: string } }): string {
  return `${r.kind}/${r.metadata.name}`;
}

/** Formats an error as `file:line: path: message`, the shape editors and CI logs link. */
export function formatPolicyError(e: PolicyError): string {
  const where = e.line ? `${e.file}:${e.line}` : e.file;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/**
 * Parses one YAML (or JSON) file of TAI resources. Pure: the caller reads the file.
 * Every problem is reported with its line and field path; a bad document never yields a resource.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const lines = new LineCounter();
  const out: ParsedManifests = { resources: [], errors: [] };
  const docs = parseAllDocuments(text, { lineCounter: lines, intAsBigInt: true, uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) return out; // an empty stream
  const seen = new Map<string, SourcedResource>();
  for (const doc of docs) {
    const parsed = parseDocument(doc, { file, lines });
    if ('errors' in parsed) out.errors.push(...parsed.errors);
    else if (parsed.resource) addUnique(parsed.resource, { seen, out });
  }
  return out;
}

/** A second definition of a name in the same file is an error on it, naming the line of the first. */
export function addUnique(r: SourcedResource, c: { seen: Map<string, SourcedResource>; out: ParsedManifests }): void {
  const key = resourceKey(r.resource);
  const first = c.seen.get(key);
  if (!first) {
    c.seen.set(key, r);
    c.out.resources.push(r);
    return;
  }
  c.out.errors.push({ ...r.source, path: 'metadata.name', resource: key, message: `${key} is already defined at line ${first.source.line ?? 1} of this file; rename one of them` });
}

interface DocContext {
  file: string;
  lines: LineCounter;
}

function parseDocument(doc: Document, ctx: DocContext): { resource?: SourcedResource } | { errors: PolicyError[] } {
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => ({ file: ctx.file, line: e.linePos?.[0].line, path: '', message: firstLine(e.message) })) };
  }
  if (doc.contents === null) return {};
  const line = lineAt(doc, [], ctx.lines);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Unresolved aliases, alias bombs and bad merge keys surface only when values are built.
    return { errors: [{ file: ctx.file, line, path: '', message: `cannot read this document: ${(e as Error).message}` }] };
  }
  const numbers: PolicyError[] = [];
  const value = toSafeNumbers(js, [], (path, message) =>
    numbers.push({ file: ctx.file, line: lineAt(doc, path, ctx.lines), path: pathText(path), message }),
  );
  if (numbers.length > 0) return { errors: numbers };
  return validateObject(value, { ...ctx, doc, line });
}

/**
 * Validates one plain object as a TAI resource: apiVersion and kind, then the kind's schema. `ctx.lineOf`
 * places errors in a source document when there is one.
 */
export function validateResource(
  value: unknown,
  ctx: { file: string; line?: number | undefined; lineOf?: (path: readonly string[]) => number | undefined },
): { resource: SourcedResource } | { errors: PolicyError[] } {
  const at = (path: string, message: string): { errors: PolicyError[] } => ({ errors: [{ file: ctx.file, line: ctx.line, path, message }] });
  if (!isRecord(value)) return at('', 'expected a mapping with apiVersion, kind, metadata and spec');
  const info = typeof value.kind === 'string' ? kindInfo(value.kind) : undefined;
  if (value.apiVersion !== API_VERSION || !info) {
    return at('kind', `unknown kind ${JSON.stringify(value.kind)} (apiVersion ${JSON.stringify(value.apiVersion)}): TAI reads SKU, Tenant and Quota with apiVersion ${API_VERSION}`);
  }
  const result = info.schema.safeParse(value);
  if (result.success) {
    const { lineOf } = ctx;
    const source = { resource: result.data as TaiResource, source: { file: ctx.file, line: ctx.line } };
    return { resource: lineOf ? { ...source, lineOf: (path) => lineOf(path ? path.split('.') : []) } : source };
  }
  return { errors: zodErrors(result.error, { ...ctx, resource: `${info.kind}/${nameOf(value)}` }) };
}

function nameOf(value: Record<string, unknown>): string {
  return isRecord(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : '(unnamed)';
}

function zodErrors(
  error: z.ZodError,
  ctx: { file: string; line?: number | undefined; lineOf?: ((path: readonly string[]) => number | undefined) | undefined; resource: string | undefined },
): PolicyError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    const line = ctx.lineOf?.(path) ?? ctx.line;
    return { file: ctx.file, line, path: pathText(path), message: issueMessage(issue), ...(ctx.resource ? { resource: ctx.resource } : {}) };
  });
}

function validateObject(value: unknown, ctx: DocContext & { doc: Document; line: number | undefined }): { resource: SourcedResource } | { errors: PolicyError[] } {
  return validateResource(value, { file: ctx.file, line: ctx.line, lineOf: (path) => lineAt(ctx.doc, path, ctx.lines) });
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}: remove or correct the spelling`;
  if (issue.code === 'invalid_key') return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

/** The line of the deepest node on `path` that exists (a missing field points at its parent). */
function lineAt(doc: Document, path: readonly string[], lines: LineCounter): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const start = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
    if (typeof start === 'number') return lines.linePos(start).line;
  }
  return undefined;
}

/** Deeper structures are refused before recursion could exhaust the stack (a hostile AdmissionReview). */
const MAX_DEPTH = 64;

/**
 * YAML integers arrive as BigInt (so 2^53+1 is not silently rounded): turn the safe ones into numbers
 * and report the rest. Text with a lone surrogate is reported (it could not be recorded). Other values pass through.
 */
export function toSafeNumbers(value: unknown, path: string[], report: (path: string[], message: string) => void): unknown {
  if (typeof value === 'bigint') return safeNumber(value, path, report);
  if (typeof value === 'string') return wellFormedText(value, path, report);
  if ((Array.isArray(value) || isRecord(value)) && path.length >= MAX_DEPTH) {
    report(path, `nested deeper than ${MAX_DEPTH} levels: no TAI field is this deep`);
    return null;
  }
  if (Array.isArray(value)) return value.map((v, i) => toSafeNumbers(v, [...path, String(i)], report));
  return isRecord(value) ? safeRecord(value, path, report) : value;
}

function safeRecord(value: Record<string, unknown>, path: string[], report: (path: string[], message: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(k)) report([...path, k], `key "${k}" is not allowed: it names a JavaScript prototype property`);
    const at = [...path, k];
    if (!k.isWellFormed()) report(at, `key ${LONE_SURROGATE}`);
    // defineProperty keeps a literal "__proto__" key as data, so validation can name it instead of it reaching the prototype.
    Object.defineProperty(out, k, { value: toSafeNumbers(v, at, report), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Text TAI records (reconcile receipts hold feature values, admission receipts hold names and messages) must be
 * well-formed Unicode: a YAML or JSON escape of half a surrogate pair (`"\\ud800"`) is refused where policy enters.
 */
const LONE_SURROGATE = 'text has a lone UTF-16 surrogate (half of a pair, e.g. the escape "\\ud800"), which is not Unicode and cannot be recorded: write the whole character';

/**
 * A field path as messages print it: `spec.features.sso`. Paths are printed in messages (and admission
 * receipts), so a key with a lone surrogate is shown by its JSON escape (`k\\udc00`).
 */
export function pathText(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'string' && !k.isWellFormed() ? JSON.stringify(k).slice(1, -1) : String(k))).join('.');
}

function wellFormedText(value: string, path: string[], report: (path: string[], message: string) => void): string {
  if (!value.isWellFormed()) report(path, LONE_SURROGATE);
  return value;
}

function safeNumber(value: bigint, path: string[], report: (path: string[], message: string) => void): number {
  if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(value);
  report(path, `number ${value} is past 2^53-1 and cannot be represented exactly: use a value of at most 9007199254740991`);
  return 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The yaml library's message without its excerpt and position (we print the line ourselves). */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
