/**
 * The package as one zip, streamed: the browser's download (files in memory) and `apply --zip` (files
 * read from the package folder a chunk at a time) run this same writer, so they give the same bytes.
 *
 * Deterministic: entries in name order, DEFLATE level 6 fed in fixed ZIP_DEFLATE_CHUNK slices (fflate's
 * streaming deflate output depends on where its input is cut, so the cuts never depend on how the
 * bytes arrive), every entry's modification time = the export time. Zip stores local "DOS" time fields,
 * which fflate reads from a Date's local fields, so the Date is built from the export time's UTC
 * fields: the same bytes in every time zone.
 *
 * No ZIP64 (fflate does not write it): a package of 4 GiB or more is refused with a clear error; the
 * package folder is the deliverable then.
 */
import {Zip, ZipDeflate} from "fflate";

export const ZIP_DEFLATE_CHUNK = 1 << 20;
const ZIP32_LIMIT = 0xffff_ffff;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export interface ZipEntry {
  name: string;
  /** Size in bytes (checked against the zip format's 4 GiB limit before anything is written). */
  size: number;
  /** The file's bytes, in order, in chunks of any size. */
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Refuse packages a zip without ZIP64 cannot hold (with room for deflate's worst-case growth and headers). */
export function checkZipLimits(entries: {name: string; size: number}[]): void {
  let total = 0;
  for (const e of entries) {
    if (e.size >= ZIP32_LIMIT) throw new Error(`${e.name} is ${e.size} bytes: a zip without ZIP64 holds files under 4 GiB. The package folder is complete; zip it with a ZIP64-capable tool (e.g. \`zip -r\`).`);
    total += Math.ceil(e.size * 1.001) + 1024 + 2 * e.name.length;
  }
  if (total >= ZIP32_LIMIT) throw new Error(`the package is about ${total} bytes: a zip without ZIP64 holds under 4 GiB. The package folder is complete; zip it with a ZIP64-capable tool (e.g. \`zip -r\`).`);
}

export async function writeZip(entries: ZipEntry[], exportTime: string, out: (bytes: Uint8Array) => void | Promise<void>): Promise<void> {
  if (!ISO_TIME.test(exportTime)) throw new Error(`export time must be ISO 8601 UTC, got ${JSON.stringify(exportTime)}`);
  checkZipLimits(entries);
  const t = new Date(exportTime);
  const mtime = new Date(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds());
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, data) => {
    if (error) failure = error;
    else ready.push(data);
  });
  const drain = async () => {
    if (failure) throw failure;
    while (ready.length) await out(ready.shift()!);
  };
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = new ZipDeflate(entry.name, {level: 6});
    file.mtime = mtime;
    zip.add(file);
    const slice = new Uint8Array(ZIP_DEFLATE_CHUNK);
    let filled = 0;
    for await (const chunk of entry.chunks()) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(chunk.length - at, ZIP_DEFLATE_CHUNK - filled);
        slice.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === ZIP_DEFLATE_CHUNK) {
          file.push(slice.slice(), false);
          filled = 0;
          await drain();
        }
      }
    }
    file.push(slice.slice(0, filled), true);
    await drain();
  }
  zip.end();
  await drain();
}

/** The package as one zip in memory (the browser's download). */
export async function zipPackage(files: Map<string, Uint8Array>, exportTime: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await writeZip(
    [...files].map(([name, bytes]) => ({name, size: bytes.length, chunks: () => [bytes]})),
    exportTime,
    (bytes) => {
      parts.push(bytes);
    }
  );
  const result = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    result.set(p, at);
    at += p.length;
  }
  return result;
}
