import { assembleManifestSet, sortedFiles, type ManifestFile, type ManifestLoad, type ManifestState } from './manifest-set.ts';
import { addUnique, parseManifests, type ParsedManifests, type PolicyError, type SourcedResource } from './manifests.ts';

/** Gives the event loop a turn (decisions, health checks) between two slices of work. */
export type Pause = () => Promise<void>;

/** Lets pending I/O callbacks run: `setImmediate` as a promise. */
export const pauseForIo: Pause = () => new Promise((resolve) => setImmediate(resolve));

/** Documents parsed between two pauses: a few ms of the yaml parser on a small machine (issue 19: no stall over 10 ms). */
const DOCUMENTS_PER_SLICE = 5;
/** Document starts looked for between two pauses while a file is cut into slices. */
const MARKERS_PER_PAUSE = 2000;

/**
 * `loadManifestSet`, parsing large files a few documents at a time with a `pause` between slices, so a 10 MB
 * policy file does not hold the event loop for seconds. Same result, errors and line numbers as the whole parse.
 */
export async function loadManifestSetInSlices(files: readonly ManifestFile[], previous: ManifestState = new Map(), pause: Pause = pauseForIo): Promise<ManifestLoad> {
  const parsed: Array<{ file: string; parsed: ParsedManifests }> = [];
  for (const { file, text } of sortedFiles(files)) parsed.push({ file, parsed: await parseManifestsInSlices(text, file, pause) });
  return assembleManifestSet(parsed, previous);
}

/**
 * `parseManifests` of one file in slices of documents. The text is cut only before a `---` line at column 0 (a
 * document start that no scalar may contain); a file with directives (`%YAML`) or with few documents is parsed
 * whole. Line numbers are those of the whole file.
 */
export async function parseManifestsInSlices(text: string, file: string, pause: Pause): Promise<ParsedManifests> {
  const slices = await slicesOf(text, pause);
  if (slices.length === 1) return parseManifests(text, file);
  const out: ParsedManifests = { resources: [], errors: [] };
  const seen = new Map<string, SourcedResource>();
  for (const slice of slices) {
    await pause();
    const parsed = parseManifests(slice.text, file);
    out.errors.push(...parsed.errors.map((e) => shiftError(e, slice.line)));
    for (const r of parsed.resources) addUnique(shiftResource(r, slice.line), { seen, out });
  }
  return out;
}

/**
 * Pieces of `text` of about DOCUMENTS_PER_SLICE documents, each with the 0-based line it starts at; found with a
 * `pause` every MARKERS_PER_PAUSE document starts (a 30 MB file is not scanned in one tick either).
 */
async function slicesOf(text: string, pause: Pause): Promise<Array<{ text: string; line: number }>> {
  if (/^%/m.test(text)) return [{ text, line: 0 }];
  const starts = [0];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let documents = 0;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index > 0 && ++documents % DOCUMENTS_PER_SLICE === 0) starts.push(m.index);
    if (documents > 0 && documents % MARKERS_PER_PAUSE === 0) await pause();
  }
  const slices: Array<{ text: string; line: number }> = [];
  let line = 0;
  for (const [i, start] of starts.entries()) {
    const piece = text.slice(start, starts[i + 1] ?? text.length);
    slices.push({ text: piece, line });
    line += countNewlines(piece);
    if ((i + 1) % (MARKERS_PER_PAUSE / DOCUMENTS_PER_SLICE) === 0) await pause();
  }
  return slices;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function shiftError(e: PolicyError, by: number): PolicyError {
  return e.line === undefined ? e : { ...e, line: e.line + by };
}

function shiftResource(r: SourcedResource, by: number): SourcedResource {
  const { lineOf } = r;
  const source = r.source.line === undefined ? r.source : { ...r.source, line: r.source.line + by };
  if (!lineOf) return { ...r, source };
  return {
    ...r,
    source,
    lineOf: (path) => {
      const line = lineOf(path);
      return line === undefined ? undefined : line + by;
    },
  };
}

