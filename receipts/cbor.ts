// Receipt bytes: RFC 8949 §4.2.1 core deterministic CBOR. Leaf hashing lives in merkle-hash.ts (hashLeaf).
export { MT, compareBytes } from './cbor-core.ts';
export * from './cbor-encode.ts';
export * from './cbor-decode.ts';
