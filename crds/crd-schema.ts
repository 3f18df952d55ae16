/**
 * zod schema → Kubernetes structural OpenAPI v3 schema (apiextensions.k8s.io/v1 JSONSchemaProps), and a
 * checker for the rules a structural schema must follow. Pure: no I/O.
 *
 * zod's `toJSONSchema` (target openapi-3.0, io input) does most of the work and copies `.meta()` keys such as
 * `x-kubernetes-validations` into its output; the post-pass here removes what a CRD may not contain. See
 * https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
 */
import { z } from 'zod';

/** One node of a CRD validation schema. Only the keys TAI reads are typed; the rest pass through. */
export interface JSONSchemaProps {
  description?: string;
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  maxItems?: number;
  maxProperties?: number;
  maxLength?: number;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  [key: string]: unknown;
}

type Node = Record<string, unknown>;

/** Formats the API server knows (k8s.io/apiextensions-apiserver, kube-openapi strfmt); others are dropped. */
const KNOWN_FORMATS: ReadonlySet<string> = new Set([
  'bsonobjectid', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'cidr', 'mac', 'uuid', 'uuid3', 'uuid4', 'uuid5',
  'isbn', 'isbn10', 'isbn13', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor', 'byte', 'password', 'date', 'duration',
  'datetime', 'date-time', 'int32', 'int64', 'float', 'double',
]);

/** Every key JSONSchemaProps (apiextensions.k8s.io/v1) declares; anything else is an unknown field. */
const SCHEMA_KEYS: ReadonlySet<string> = new Set([
  'id', '$schema', '$ref', 'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum',
  'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems',
  'multipleOf', 'enum', 'maxProperties', 'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not',
  'properties', 'additionalProperties', 'patternProperties', 'dependencies', 'additionalItems', 'definitions',
  'externalDocs', 'example', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/** Keys the API server rejects in a structural schema (apiextensions-apiserver schema/convert.go and validation). */
const UNSUPPORTED_KEYS = ['id', '$ref', '$schema', 'definitions', 'dependencies', 'additionalItems', 'patternProperties'];

/** Keys a value validation inside allOf/anyOf/oneOf/not may not set (structural rule 3). */
const JUNCTOR_FORBIDDEN = ['description', 'type', 'default', 'additionalProperties', 'nullable'];
const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];

/** Order of keys in the output, so generated YAML reads naturally and diffs stay small. */
const KEY_ORDER = [
  'description', 'type', 'format', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'exclusiveMinimum',
  'maximum', 'exclusiveMaximum', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'properties',
  'additionalProperties', 'items', 'required',
];

const SAFE = Number.MAX_SAFE_INTEGER;

interface ZodCheckDef {
  check?: string;
  value?: unknown;
}

/**
 * toJSONSchema override: drops the ±(2^53-1) bounds zod adds to every `z.int()`, unless the schema declared
 * that bound itself (`count = z.int().nonnegative().max(MAX_LIMIT)` keeps its maximum). Real bounds stay.
 */
function dropImplicitIntBounds(ctx: { zodSchema: unknown; jsonSchema: Node }): void {
  const def = (ctx.zodSchema as { _zod: { def: { type: string; checks?: { _zod: { def: ZodCheckDef } }[] } } })._zod.def;
  if (def.type !== 'number') return;
  const declared = (def.checks ?? []).map((c) => c._zod.def);
  const has = (check: string, value: number) => declared.some((d) => d.check === check && d.value === value);
  if (ctx.jsonSchema.minimum === -SAFE && !has('greater_than', -SAFE)) delete ctx.jsonSchema.minimum;
  if (ctx.jsonSchema.maximum === SAFE && !has('less_than', SAFE)) delete ctx.jsonSchema.maximum;
}

/** Context of the post-pass: where we are (for error messages) and the definitions $refs point into. */
interface Walk {
  path: string;
  defs: Record<string, Node>;
  refs: readonly string[];
}

/**
 * Converts a zod schema to a structural schema for a CRD.
 *
 * Throws, naming the field path, when a property has no description (add `.describe()` in crds/) or when the
 * schema uses a construct a structural schema cannot express (a union of objects, an intersection, a cycle).
 * @example structuralSchema(skuSpec, 'SKU.spec').properties?.features?.additionalProperties
 */
export function structuralSchema(schema: z.ZodType, path: string): JSONSchemaProps {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', override: dropImplicitIntBounds }) as Node;
  const defs = { ...(raw.definitions as Record<string, Node> | undefined), ...(raw.$defs as Record<string, Node> | undefined) };
  delete raw.definitions;
  delete raw.$defs;
  return normalize(raw, { path, defs, refs: [] });
}

function normalize(input: Node, at: Walk): JSONSchemaProps {
  const { node, walk } = inlineRef(input, at);
  const out: Node = { ...node };
  for (const key of ['$schema', 'id', 'propertyNames']) delete out[key];
  if (out.additionalProperties === false) delete out.additionalProperties;
  foldPatternProperties(out);
  collapseUnion(out, walk.path);
  openEmptyMap(out);
  cleanFormat(out);
  if (out.allOf !== undefined || out.not !== undefined) {
    throw new Error(`${walk.path}: allOf/not (a zod intersection or negation) has no structural form; use one object`);
  }
  normalizeChildren(out, walk);
  return ordered(out);
}

/** openapi-3.0 forbids keys beside $ref, so zod writes `{description, allOf: [{$ref}]}`: read it as a $ref. */
function unwrapRefAllOf(node: Node): Node {
  const allOf = node.allOf;
  if (!Array.isArray(allOf) || allOf.length !== 1 || typeof (allOf[0] as Node).$ref !== 'string') return node;
  const { allOf: _allOf, ...rest } = node;
  return { ...rest, $ref: (allOf[0] as Node).$ref };
}

/** Replaces `{$ref}` by the definition it names, merged under the sibling keys; rejects cycles. */
function inlineRef(input: Node, at: Walk): { node: Node; walk: Walk } {
  const node = unwrapRefAllOf(input);
  const ref = node.$ref;
  if (typeof ref !== 'string') return { node, walk: at };
  const name = ref.replace(/^#\/(\$defs|definitions)\//, '');
  const target = at.defs[name];
  if (!target) throw new Error(`${at.path}: $ref ${ref} does not resolve`);
  if (at.refs.includes(name)) throw new Error(`${at.path}: recursive schema ${name} cannot be inlined into a CRD`);
  const { $ref: _ref, ...siblings } = node;
  return inlineRef({ ...target, ...siblings }, { ...at, refs: [...at.refs, name] });
}

/** Records with a key regex come out as patternProperties in some targets: the value schema is what matters. */
function foldPatternProperties(out: Node): void {
  const patterns = out.patternProperties as Record<string, Node> | undefined;
  delete out.patternProperties;
  const values = Object.values(patterns ?? {});
  if (values.length > 0 && out.additionalProperties === undefined) out.additionalProperties = values[0];
}

/** Typed unions: int|string → x-kubernetes-int-or-string; other scalar unions → preserve unknown fields. */
function collapseUnion(out: Node, path: string): void {
  const branches = (out.anyOf ?? out.oneOf) as Node[] | undefined;
  if (!branches) return;
  delete out.anyOf;
  delete out.oneOf;
  delete out.type;
  if (out['x-kubernetes-int-or-string'] === true || out['x-kubernetes-preserve-unknown-fields'] === true) return;
  out[unionMarker(branches, path)] = true;
}

function unionMarker(branches: Node[], path: string): 'x-kubernetes-int-or-string' | 'x-kubernetes-preserve-unknown-fields' {
  const types = new Set(branches.map((b) => b.type));
  if (types.has(undefined) || types.has('object') || types.has('array')) {
    throw new Error(`${path}: a union of objects or arrays has no structural form; use one object with optional fields and a CEL rule`);
  }
  const intOrString = types.size === 2 && types.has('integer') && types.has('string');
  return intOrString ? 'x-kubernetes-int-or-string' : 'x-kubernetes-preserve-unknown-fields';
}

/** `z.record(k, z.unknown())` gives `additionalProperties: {}`, an untyped node: keep the map open instead. */
function openEmptyMap(out: Node): void {
  const ap = out.additionalProperties;
  const empty = ap === true || (typeof ap === 'object' && ap !== null && Object.keys(ap).length === 0);
  if (!empty) return;
  delete out.additionalProperties;
  out['x-kubernetes-preserve-unknown-fields'] = true;
}

/** date-time is checked by the API server, so zod's long regex beside it is dropped; unknown formats go. */
function cleanFormat(out: Node): void {
  if (typeof out.format !== 'string') return;
  if (!KNOWN_FORMATS.has(out.format)) delete out.format;
  else if (out.format === 'date-time') delete out.pattern;
}

function normalizeChildren(out: Node, at: Walk): void {
  const props = out.properties as Record<string, Node> | undefined;
  if (props) {
    out.properties = Object.fromEntries(
      Object.entries(props).map(([name, child]) => [name, describedProperty(child, { ...at, path: `${at.path}.${name}` })]),
    );
  }
  if (isNode(out.additionalProperties)) out.additionalProperties = normalize(out.additionalProperties, { ...at, path: `${at.path}.<key>` });
  if (isNode(out.items)) out.items = normalize(out.items, { ...at, path: `${at.path}[]` });
}

function describedProperty(child: Node, at: Walk): JSONSchemaProps {
  const out = normalize(child, at);
  if (typeof out.description !== 'string' || out.description.trim() === '') {
    throw new Error(`${at.path}: no description; add .describe('...') to this field's zod schema in crds/ (kubectl explain shows it)`);
  }
  return out;
}

function ordered(node: Node): JSONSchemaProps {
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b) || (rank(a) === KEY_ORDER.length ? a.localeCompare(b) : 0));
  return Object.fromEntries(keys.map((k) => [k, node[k]])) as JSONSchemaProps;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where a node sits: the root, an object's field, a map value, an array item, or a branch of a junctor. */
type Place = 'root' | 'field' | 'junctor';

/**
 * Lists every way `schema` (an openAPIV3Schema root) breaks the rules of a structural schema, or of the
 * API server's CRD validation, as `path: problem` lines. Empty means the API server would accept it.
 *
 * Rules: a non-empty type on the root, every field, map value and array item (except int-or-string and
 * preserve-unknown-fields nodes); no description/type/default/additionalProperties/nullable inside
 * allOf/anyOf/oneOf/not, whose fields must also be specified outside; metadata at the root restricts only
 * name and generateName; no $ref, definitions, patternProperties, additionalItems, dependencies, id;
 * additionalProperties neither false nor beside properties; uniqueItems never true; only known keys, known
 * formats and RE2-compatible patterns. CEL cost is checked apart, by {@link celCostProblems}.
 */
export function structuralProblems(schema: JSONSchemaProps): string[] {
  const problems: string[] = [];
  checkNode(schema, '', 'root', problems);
  checkRootMetadata(schema, problems);
  if (schema.additionalProperties !== undefined) problems.push('additionalProperties: not allowed at the root');
  return problems;
}

/**
 * Lists the CEL rules in `schema` that the API server's cost estimator would reject, as `path: problem` lines.
 *
 * A rule is evaluated once per element of every enclosing list and map; the API server multiplies its cost by
 * that count and rejects the CRD when the product passes the per-rule budget (10^7). An unbounded list or map
 * is assumed to hold as many elements as fit in a 3 MiB request (about 500 000), which no rule that walks a
 * list can afford. So every list and map above a rule needs maxItems / maxProperties, and every list, map or
 * string the rule reads (other than through has()) needs maxItems / maxProperties / maxLength.
 */
export function celCostProblems(schema: JSONSchemaProps): string[] {
  const problems: string[] = [];
  checkCelBounds(schema, '', true, problems);
  return problems;
}

function checkNode(node: JSONSchemaProps, path: string, place: Place, problems: string[]): void {
  const where = path || '<root>';
  checkKeys(node, where, problems);
  if (place !== 'junctor') checkType(node, where, problems);
  checkObject(node, where, problems);
  checkPattern(node, where, problems);
  checkJunctors(node, path, problems);
  for (const [name, child] of Object.entries(node.properties ?? {})) checkNode(child, `${path}.${name}`, place === 'junctor' ? 'junctor' : 'field', problems);
  if (isNode(node.additionalProperties)) checkNode(node.additionalProperties, `${path}.<key>`, place === 'junctor' ? 'junctor' : 'field', problems);
  if (node.items !== undefined) checkItems(node.items, path, place, problems);
}

function checkKeys(node: JSONSchemaProps, where: string, problems: string[]): void {
  for (const key of Object.keys(node)) {
    if (!SCHEMA_KEYS.has(key)) problems.push(`${where}: unknown schema key ${key}`);
    else if (UNSUPPORTED_KEYS.includes(key)) problems.push(`${where}: ${key} is not supported in a structural schema`);
  }
  if (node.uniqueItems === true) problems.push(`${where}: uniqueItems: true is forbidden (quadratic validation)`);
  if (node['x-kubernetes-preserve-unknown-fields'] === false) problems.push(`${where}: x-kubernetes-preserve-unknown-fields must be true or absent`);
  checkValueKeys(node, where, problems);
}

function checkValueKeys(node: JSONSchemaProps, where: string, problems: string[]): void {
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (key in node && typeof node[key] !== 'boolean') problems.push(`${where}: ${key} must be a boolean in OpenAPI v3.0`);
  }
  if (typeof node.format === 'string' && !KNOWN_FORMATS.has(node.format)) problems.push(`${where}: unknown format ${node.format}`);
}

function checkType(node: JSONSchemaProps, where: string, problems: string[]): void {
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const open = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (intOrString && node.type !== undefined) problems.push(`${where}: x-kubernetes-int-or-string must not set type`);
  if (!intOrString && !open && (typeof node.type !== 'string' || node.type === '')) problems.push(`${where}: no type`);
  if (Array.isArray(node.type)) problems.push(`${where}: type must be one string, not a list`);
}

function checkObject(node: JSONSchemaProps, where: string, problems: string[]): void {
  if (node.additionalProperties === false) problems.push(`${where}: additionalProperties: false is forbidden (unknown fields are pruned)`);
  if (node.additionalProperties !== undefined && node.properties !== undefined) {
    problems.push(`${where}: additionalProperties and properties are mutually exclusive`);
  }
  for (const name of node.required ?? []) {
    if (!node.properties?.[name]) problems.push(`${where}: required field ${name} is not in properties`);
  }
}

/** Go's RE2 (used by the API server) has no lookaround and no backreferences. */
function checkPattern(node: JSONSchemaProps, where: string, problems: string[]): void {
  if (typeof node.pattern !== 'string') return;
  if (/\(\?<?[=!]|\\[1-9]/.test(node.pattern)) problems.push(`${where}: pattern uses lookaround or a backreference, which RE2 rejects`);
}

function checkItems(items: unknown, path: string, place: Place, problems: string[]): void {
  if (!isNode(items)) {
    problems.push(`${path || '<root>'}: items must be one schema (array-form items is unsupported)`);
    return;
  }
  checkNode(items, `${path}[]`, place === 'junctor' ? 'junctor' : 'field', problems);
}

function checkJunctors(node: JSONSchemaProps, path: string, problems: string[]): void {
  for (const junctor of JUNCTORS) {
    const value = node[junctor];
    if (value === undefined) continue;
    const branches = (Array.isArray(value) ? value : [value]) as JSONSchemaProps[];
    if (isIntOrStringPattern(node, junctor, branches)) continue;
    branches.forEach((b, i) => checkBranch(node, b, `${path}.${junctor}[${i}]`, problems));
  }
}

/** The one allowed use of type inside a junctor: `x-kubernetes-int-or-string` with anyOf [integer, string]. */
function isIntOrStringPattern(node: JSONSchemaProps, junctor: string, branches: JSONSchemaProps[]): boolean {
  const types = branches.map((b) => b.type).sort();
  return node['x-kubernetes-int-or-string'] === true && junctor === 'anyOf' && types.join() === 'integer,string';
}

function checkBranch(outer: JSONSchemaProps, branch: JSONSchemaProps, where: string, problems: string[]): void {
  for (const key of JUNCTOR_FORBIDDEN) if (key in branch) problems.push(`${where}: ${key} is not allowed inside a logical junctor`);
  for (const name of Object.keys(branch.properties ?? {})) {
    if (!outer.properties?.[name]) problems.push(`${where}: field ${name} must also be specified outside the junctor`);
  }
  if (branch.items !== undefined && outer.items === undefined) problems.push(`${where}: items must also be specified outside the junctor`);
  checkNode(branch, where, 'junctor', problems);
}

function checkRootMetadata(schema: JSONSchemaProps, problems: string[]): void {
  const metadata = schema.properties?.metadata;
  if (!metadata) return;
  const extra = Object.keys(metadata).filter((k) => k !== 'type' && k !== 'properties' && k !== 'description');
  const fields = Object.keys(metadata.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
  if (extra.length > 0 || fields.length > 0) problems.push(`.metadata: may only restrict name and generateName (found ${[...extra, ...fields].join(', ')})`);
}

function checkCelBounds(node: JSONSchemaProps, path: string, bounded: boolean, problems: string[]): void {
  const rules = node['x-kubernetes-validations'] ?? [];
  if (rules.length > 0 && !bounded) {
    problems.push(`${path || '<root>'}: CEL rules under an unbounded list or map; add maxItems/maxProperties to the enclosing collections`);
  }
  for (const { rule } of rules) checkRuleReads(node, rule, path, problems);
  checkCelBoundsBelow(node, path, bounded, problems);
}

function checkCelBoundsBelow(node: JSONSchemaProps, path: string, bounded: boolean, problems: string[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) checkCelBounds(child, `${path}.${name}`, bounded, problems);
  if (isNode(node.additionalProperties)) {
    checkCelBounds(node.additionalProperties, `${path}.<key>`, bounded && node.maxProperties !== undefined, problems);
  }
  if (isNode(node.items)) checkCelBounds(node.items, `${path}[]`, bounded && node.maxItems !== undefined, problems);
}

function checkRuleReads(node: JSONSchemaProps, rule: string, path: string, problems: string[]): void {
  const readOutsideHas = rule.replace(/has\(self\.[A-Za-z_][A-Za-z0-9_]*\)/g, '');
  for (const [, name] of readOutsideHas.matchAll(/self\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const field = name === undefined ? undefined : node.properties?.[name];
    if (field && unboundedForCel(field)) problems.push(`${path}.${name}: read by CEL rule "${rule}" but has no size bound`);
  }
}

function unboundedForCel(field: JSONSchemaProps): boolean {
  if (field.type === 'array') return field.maxItems === undefined;
  if (field.type === 'object' && field.properties === undefined) return field.maxProperties === undefined;
  const typedByFormat = field.format === 'date-time' || field.format === 'date' || field.format === 'duration';
  return field.type === 'string' && !typedByFormat && field.maxLength === undefined && field.enum === undefined;
}
