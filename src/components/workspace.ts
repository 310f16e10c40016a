/**
 * The workspace: the dataset the expert is working on, kept in this browser's private storage
 * (the Origin Private File System; it never leaves the machine) so every page opens on the same
 * data. Falls back to the bundled sample when nothing was loaded yet.
 */
export interface StoredDataset {
  name: string;
  delimiter: string;
  encoding: string;
  bytes: Uint8Array;
}

const FILE = "current-dataset.csv";
const META = "deid-workbench:current-dataset";

async function storageRoot(): Promise<FileSystemDirectoryHandle | null> {
  try {
    return await navigator.storage.getDirectory();
  } catch {
    return null;
  }
}

/** Remember a loaded dataset (UTF-8 bytes, as DuckDB read them) for the other pages. */
export async function saveCurrentDataset(dataset: StoredDataset): Promise<void> {
  const root = await storageRoot();
  if (!root) return;
  const handle = await root.getFileHandle(FILE, {create: true});
  const writable = await handle.createWritable();
  await writable.write(dataset.bytes as unknown as ArrayBuffer);
  await writable.close();
  localStorage.setItem(META, JSON.stringify({name: dataset.name, delimiter: dataset.delimiter, encoding: dataset.encoding, size: dataset.bytes.length}));
}

/** The dataset last loaded on the Data page, or null. */
export async function loadCurrentDataset(): Promise<StoredDataset | null> {
  const meta = localStorage.getItem(META);
  const root = await storageRoot();
  if (!meta || !root) return null;
  try {
    const {name, delimiter, encoding, size} = JSON.parse(meta);
    const file = await (await root.getFileHandle(FILE)).getFile();
    if (file.size !== size) return null;
    return {name, delimiter, encoding, bytes: new Uint8Array(await file.arrayBuffer())};
  } catch {
    return null;
  }
}

/** Forget the stored dataset (back to the sample). */
export async function clearCurrentDataset(): Promise<void> {
  localStorage.removeItem(META);
  const root = await storageRoot();
  await root?.removeEntry(FILE).catch(() => {});
}
