import {columnOf, int32Column, queryColumns, quoteIdentifier, quoteLiteral, type SqlConnection} from "./sql.js";

/**
 * What the search needs of a generalization hierarchy (structurally the `Hierarchy` of
 * hierarchies.ts): `generalize(v)[l]` is the value at level l, level 0 the original, level
 * height-1 the top (`*`).
 */
export interface GeneralizationHierarchy {
  readonly name: string;
  readonly height: number;
  generalize(value: string | null): (string | null)[];
}

export interface QuasiIdentifierInput {
  name: string;
  hierarchy: GeneralizationHierarchy;
}

/** One quasi-identifier's values, encoded as small integers per hierarchy level. */
export interface QuasiIdentifierCodes {
  name: string;
  height: number;
  /** labels[level][code]: the generalized value a code stands for. */
  labels: (string | null)[][];
  /** toLevel[level][code0]: code at `level` of the original value with code `code0`. */
  toLevel: Int32Array[];
  /** rollUp[a][b] (a <= b): code at level a -> code at level b; null when the hierarchy is not a tree between a and b. */
  rollUp: (Int32Array | null)[][];
  /** frequency[level][code]: records holding that generalized value. */
  frequency: Float64Array[];
  /** leaves[level][code]: distinct original values (in the data) under that generalized value. */
  leaves: Int32Array[];
}

export interface SensitiveCodes {
  name: string;
  /** Distinct values, sorted (NULL first); codes index this list. */
  values: (string | null)[];
  /** Records per value over the whole table. */
  frequency: Float64Array;
}

/**
 * Record counts per combination of original (level-0) quasi-identifier values and sensitive
 * values: the one GROUP BY the search and the utility metrics work from. A *cell* is one such
 * combination.
 */
export interface ClassCounts {
  table: string;
  records: number;
  quasiIdentifiers: QuasiIdentifierCodes[];
  sensitive: SensitiveCodes[];
  cells: number;
  /** cells * q level-0 codes, row-major. */
  codes: Int32Array;
  counts: Int32Array;
  /** cells * s sensitive codes, row-major. */
  sensitiveCodes: Int32Array;
  /** Every hierarchy maps each level onto the next as a function (needed for rollups and pruning). */
  treeShaped: boolean;
  /**
   * Fixed mixed-radix strides (radix = number of original values per QI) for class keys, or null
   * when their product exceeds 2^53. A code at any level is below the number of original values.
   */
  strides: Float64Array | null;
}

/**
 * Count records per combination of finest-level QI values (and sensitive values) with one SQL
 * GROUP BY, then encode each QI's distinct values per hierarchy level in JS. Values reach the
 * hierarchy as text (CAST ... AS VARCHAR), as in the risk engine.
 *
 * The GROUP BY runs over integer ids of each column's distinct values (temporary tables numbering
 * them), so only small id columns and the short lists of distinct values leave the database, read
 * by columns: the result is the same as `computeClassCountsFromRows`, up to the order of cells.
 */
export async function computeClassCounts(conn: SqlConnection, options: ClassCountsOptions): Promise<ClassCounts> {
  const {table, quasiIdentifiers} = options;
  const sensitive = options.sensitive ?? [];
  const columns = await checkColumns(conn, options);
  const base = `__class_counts_${++tempCounter}_${Math.random().toString(36).slice(2, 8)}`;
  const dictionaries = columns.map((_, i) => quoteIdentifier(`${base}_${i}`));
  try {
    // Ids in arbitrary order: the codes are renumbered in JS by JS string order (encodeCodedCells).
    await conn.exec(
      columns
        .map((c, i) => `CREATE OR REPLACE TEMP TABLE ${dictionaries[i]} AS SELECT v, (row_number() OVER () - 1)::INTEGER AS id FROM (SELECT DISTINCT CAST(${quoteIdentifier(c)} AS VARCHAR) AS v FROM ${quoteIdentifier(table)})`)
        .join(";\n")
    );
    const distinct: (string | null)[][] = [];
    for (const d of dictionaries) {
      const r = await queryColumns(conn, `SELECT v FROM ${d} ORDER BY id`);
      distinct.push(r.rows ? (r.columns[0] as (string | null)[]) : []);
    }
    const joins = columns.map((c, i) => `JOIN ${dictionaries[i]} d${i} ON CAST(t.${quoteIdentifier(c)} AS VARCHAR) IS NOT DISTINCT FROM d${i}.v`).join(" ");
    const grouped = await queryColumns(conn, `SELECT ${columns.map((_, i) => `d${i}.id AS c${i}`).join(", ")}, count(*)::INTEGER AS n FROM ${quoteIdentifier(table)} t ${joins} GROUP BY ALL`);
    const ids = columns.map((_, i) => int32Column(columnOf(grouped, `c${i}`), `class counts of ${table}, column ${columns[i]}`));
    const q = quasiIdentifiers.length;
    return encodeCodedCells({
      table,
      quasiIdentifiers,
      sensitive,
      qi: ids.slice(0, q).map((codes, j) => ({distinct: distinct[j], codes})),
      sensitiveCells: ids.slice(q).map((codes, t) => ({distinct: distinct[q + t], codes})),
      counts: int32Column(columnOf(grouped, "n"), `class counts of ${table}`)
    });
  } finally {
    // Never let a failed clean-up hide the error that got us here; a leftover temp table is harmless.
    await conn.exec(dictionaries.map((d) => `DROP TABLE IF EXISTS ${d}`).join("; ")).catch(() => {});
  }
}

export interface ClassCountsOptions {
  table: string;
  quasiIdentifiers: QuasiIdentifierInput[];
  sensitive?: string[];
}

let tempCounter = 0;

async function checkColumns(conn: SqlConnection, options: ClassCountsOptions): Promise<string[]> {
  const {table, quasiIdentifiers} = options;
  if (quasiIdentifiers.length === 0) throw new Error("at least one quasi-identifier is needed");
  const columns = [...quasiIdentifiers.map((q) => q.name), ...(options.sensitive ?? [])];
  const present = new Set((await conn.query(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = ${quoteLiteral(table)}`)).map((r) => String(r.c)));
  for (const c of columns) if (!present.has(c)) throw new Error(`column "${c}" is not in table ${table} (columns: ${[...present].join(", ")})`);
  if (new Set(columns).size !== columns.length) throw new Error("a column is listed twice (a column is either a quasi-identifier or sensitive, once)");
  return columns;
}

/**
 * The former computeClassCounts: GROUP BY over the text values, one row object per cell. Kept as
 * the reference the coded path is tested and benchmarked against; use computeClassCounts.
 */
export async function computeClassCountsFromRows(conn: SqlConnection, options: ClassCountsOptions): Promise<ClassCounts> {
  const {table, quasiIdentifiers} = options;
  const sensitive = options.sensitive ?? [];
  const columns = await checkColumns(conn, options);
  const select = columns.map((c, i) => `CAST(${quoteIdentifier(c)} AS VARCHAR) AS c${i}`).join(", ");
  const rows = await conn.query(`SELECT ${select}, count(*)::INTEGER AS n FROM ${quoteIdentifier(table)} GROUP BY ALL`);
  const values = columns.map((_, i) => rows.map((r) => r[`c${i}`] as string | null));
  return encodeClassCounts({
    table,
    quasiIdentifiers,
    sensitive,
    qiValues: values.slice(0, quasiIdentifiers.length),
    sensitiveValues: values.slice(quasiIdentifiers.length),
    counts: rows.map((r) => Number(r.n))
  });
}

/** Encode grouped rows (one entry per cell in each array) into ClassCounts; also used by tests with rows built in JS. */
export function encodeClassCounts(input: {
  table?: string;
  quasiIdentifiers: QuasiIdentifierInput[];
  sensitive?: string[];
  qiValues: (string | null)[][];
  sensitiveValues?: (string | null)[][];
  counts: number[];
}): ClassCounts {
  return encodeCodedCells({
    table: input.table,
    quasiIdentifiers: input.quasiIdentifiers,
    sensitive: input.sensitive,
    qi: input.qiValues.map(codeColumn),
    sensitiveCells: (input.sensitiveValues ?? []).map(codeColumn),
    counts: Int32Array.from(input.counts)
  });
}

/** A column of values as ids into its distinct values (in order of first appearance). */
function codeColumn(column: (string | null)[]): CodedColumn {
  const index = new Map<string | null, number>();
  const codes = new Int32Array(column.length);
  for (let i = 0; i < column.length; ++i) {
    let c = index.get(column[i]);
    if (c === undefined) index.set(column[i], (c = index.size));
    codes[i] = c;
  }
  return {distinct: [...index.keys()], codes};
}

/** One column of the cells: `codes[cell]` indexes `distinct` (each value once, any order). */
interface CodedColumn {
  distinct: (string | null)[];
  codes: Int32Array;
}

/**
 * Encode cells given as ids into each column's distinct values. Codes are renumbered by
 * `sortedDistinct`, so the result does not depend on the order of `distinct` (nor on the
 * database's collation).
 */
function encodeCodedCells(input: {
  table?: string;
  quasiIdentifiers: QuasiIdentifierInput[];
  sensitive?: string[];
  qi: CodedColumn[];
  sensitiveCells: CodedColumn[];
  counts: Int32Array;
}): ClassCounts {
  const q = input.quasiIdentifiers.length;
  const sensitive = input.sensitive ?? [];
  const s = sensitive.length;
  const counts = input.counts;
  const cells = counts.length;
  let records = 0;
  for (let i = 0; i < cells; ++i) records += counts[i];
  const codes = new Int32Array(cells * q);
  let treeShaped = true;
  const qis: QuasiIdentifierCodes[] = input.quasiIdentifiers.map(({name, hierarchy}, j) => {
    const {distinct, rank} = sortCodes(input.qi[j]);
    const column = input.qi[j].codes;
    for (let i = 0; i < cells; ++i) codes[i * q + j] = rank[column[i]];
    const height = hierarchy.height;
    const labels: (string | null)[][] = [];
    const toLevel: Int32Array[] = [];
    const levelIndex: Map<string | null, number>[] = [];
    for (let l = 0; l < height; ++l) {
      labels.push([]);
      toLevel.push(new Int32Array(distinct.length));
      levelIndex.push(new Map());
    }
    distinct.forEach((value, c0) => {
      let path: (string | null)[];
      try {
        path = hierarchy.generalize(value);
      } catch (error) {
        throw new Error(`quasi-identifier "${name}": ${(error as Error).message}`);
      }
      if (path.length !== height) throw new Error(`hierarchy ${hierarchy.name} for ${name}: value ${JSON.stringify(value)} has ${path.length} levels, expected ${height}`);
      for (let l = 0; l < height; ++l) {
        const label = l === 0 ? value : path[l];
        let code = levelIndex[l].get(label);
        if (code === undefined) {
          code = labels[l].length;
          labels[l].push(label);
          levelIndex[l].set(label, code);
        }
        toLevel[l][c0] = code;
      }
    });
    const frequency = labels.map((ls) => new Float64Array(ls.length));
    const leaves = labels.map((ls) => new Int32Array(ls.length));
    const valueCount = new Float64Array(distinct.length);
    for (let i = 0; i < cells; ++i) valueCount[codes[i * q + j]] += counts[i];
    for (let l = 0; l < height; ++l)
      for (let c0 = 0; c0 < distinct.length; ++c0) {
        frequency[l][toLevel[l][c0]] += valueCount[c0];
        leaves[l][toLevel[l][c0]]++;
      }
    const rollUp: (Int32Array | null)[][] = [];
    for (let a = 0; a < height; ++a) {
      rollUp.push([]);
      for (let b = 0; b < height; ++b) {
        if (b < a) {
          rollUp[a].push(null);
          continue;
        }
        const map = new Int32Array(labels[a].length).fill(-1);
        let ok = true;
        for (let c0 = 0; c0 < distinct.length && ok; ++c0) {
          const from = toLevel[a][c0];
          const to = toLevel[b][c0];
          if (map[from] === -1) map[from] = to;
          else if (map[from] !== to) ok = false;
        }
        rollUp[a].push(ok ? map : null);
        if (!ok) treeShaped = false;
      }
    }
    return {name, height, labels, toLevel, rollUp, frequency, leaves};
  });
  const sensitiveCodes = new Int32Array(cells * s);
  const sens: SensitiveCodes[] = sensitive.map((name, t) => {
    const {distinct: values, rank} = sortCodes(input.sensitiveCells[t]);
    const column = input.sensitiveCells[t].codes;
    const frequency = new Float64Array(values.length);
    for (let i = 0; i < cells; ++i) {
      const c = rank[column[i]];
      sensitiveCodes[i * s + t] = c;
      frequency[c] += counts[i];
    }
    return {name, values, frequency};
  });
  let product = 1;
  const strides = new Float64Array(q);
  for (let j = q - 1; j >= 0; --j) {
    strides[j] = product;
    product *= Math.max(1, qis[j].labels[0].length);
  }
  return {table: input.table ?? "", records, quasiIdentifiers: qis, sensitive: sens, cells, codes, counts, sensitiveCodes, treeShaped, strides: product <= Number.MAX_SAFE_INTEGER ? strides : null};
}

/** The distinct values sorted by `sortedDistinct`, and rank[id]: the sorted position of distinct[id]. */
function sortCodes(column: CodedColumn): {distinct: (string | null)[]; rank: Int32Array} {
  const distinct = sortedDistinct(column.distinct);
  if (distinct.length !== column.distinct.length) throw new Error("a column's list of distinct values holds a value twice");
  const position = new Map<string | null, number>(distinct.map((v, c) => [v, c]));
  return {distinct, rank: Int32Array.from(column.distinct, (v) => position.get(v)!)};
}

/** NULL first, then by text: stable codes whatever order the database returned the groups in. */
function sortedDistinct(column: (string | null)[]): (string | null)[] {
  const set = new Set(column);
  const hasNull = set.delete(null);
  const sorted = [...(set as Set<string>)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return hasNull ? [null, ...sorted] : sorted;
}

/**
 * The equivalence classes of one lattice node, as cells: distinct combinations of generalized QI
 * codes (and of the joint sensitive value, when there are sensitive attributes) with counts.
 */
export interface NodeClasses {
  levels: number[];
  cells: number;
  /** cells * q codes at `levels`. */
  codes: Int32Array;
  counts: Int32Array;
  /** Joint sensitive code per cell (index into `SensitiveJoint`), or null without sensitive attributes. */
  sensitive: Int32Array | null;
  classes: number;
  /** Class of each cell (null: cell i is class i). */
  classOf: Int32Array | null;
  classSizes: Int32Array;
  /** Per cell, its class's key sum(code_j * strides_j) (null when ClassCounts.strides is null). */
  keys: Float64Array | null;
}

/** Joint codes for the combinations of sensitive values that occur, and each attribute's code per joint code. */
export interface SensitiveJoint {
  count: number;
  /** codes[joint * s + t]: code of sensitive attribute t. */
  codes: Int32Array;
}

/** The finest node (all levels 0), built from the class counts. */
export function bottomClasses(counts: ClassCounts): {node: NodeClasses; joint: SensitiveJoint | null} {
  const q = counts.quasiIdentifiers.length;
  const s = counts.sensitive.length;
  let joint: SensitiveJoint | null = null;
  let sensitive: Int32Array | null = null;
  let classOf: Int32Array | null = null;
  let classSizes = counts.counts;
  let classes = counts.cells;
  if (s > 0) {
    const jointIndex = new Map<string, number>();
    const jointCodes: number[] = [];
    sensitive = new Int32Array(counts.cells);
    for (let i = 0; i < counts.cells; ++i) {
      const key = Array.from(counts.sensitiveCodes.subarray(i * s, i * s + s)).join(",");
      let c = jointIndex.get(key);
      if (c === undefined) {
        c = jointIndex.size;
        jointIndex.set(key, c);
        for (let t = 0; t < s; ++t) jointCodes.push(counts.sensitiveCodes[i * s + t]);
      }
      sensitive[i] = c;
    }
    joint = {count: jointIndex.size, codes: Int32Array.from(jointCodes)};
    // Group cells into classes by their QI codes.
    const table = new KeyTable();
    const keyer = new CodeKeyer(counts, new Array(q).fill(0));
    table.reset(counts.cells);
    classOf = new Int32Array(counts.cells);
    const sizes = new Int32Array(counts.cells);
    classes = 0;
    for (let i = 0; i < counts.cells; ++i) {
      const slot = table.slot(keyer.keyOf(counts.codes, i * q));
      let c = table.value(slot);
      if (c < 0) table.set(slot, (c = classes++));
      classOf[i] = c;
      sizes[c] += counts.counts[i];
    }
    classSizes = sizes.slice(0, classes);
  }
  return {
    node: {levels: new Array(q).fill(0), cells: counts.cells, codes: counts.codes, counts: counts.counts, sensitive, classes, classOf, classSizes, keys: keysOf(counts)},
    joint
  };
}

function keysOf(counts: ClassCounts): Float64Array | null {
  const strides = counts.strides;
  if (!strides) return null;
  const q = strides.length;
  const keys = new Float64Array(counts.cells);
  for (let i = 0; i < counts.cells; ++i) {
    let key = 0;
    for (let j = 0; j < q; ++j) key += counts.codes[i * q + j] * strides[j];
    keys[i] = key;
  }
  return keys;
}

/** Whether `from` can be rolled up to `levels` (every level >= and the hierarchy a function between them). */
export function canRollUp(counts: ClassCounts, from: readonly number[], levels: readonly number[]): boolean {
  for (let j = 0; j < levels.length; ++j) if (levels[j] < from[j] || !counts.quasiIdentifiers[j].rollUp[from[j]][levels[j]]) return false;
  return true;
}

/**
 * Compute the classes of node `levels` by aggregating the cells of a finer node `from` (no
 * rescan of records): each cell's codes are mapped up the hierarchies and cells with equal
 * codes are merged.
 */
export function rollUpClasses(counts: ClassCounts, from: NodeClasses, levels: readonly number[], scratch: RollUpScratch = defaultScratch): NodeClasses {
  const q = counts.quasiIdentifiers.length;
  const n = from.cells;
  const {classOfSource, firstSource, classes, classKeys} = assignClasses(counts, from, levels, scratch);
  const codesOf = (firsts: Int32Array, total: number) => {
    const changed: number[] = [];
    for (let j = 0; j < q; ++j) if (from.levels[j] !== levels[j]) changed.push(j);
    const changedMaps = changed.map((j) => counts.quasiIdentifiers[j].rollUp[from.levels[j]][levels[j]]!);
    const src = from.codes;
    const out = new Int32Array(total * q);
    for (let c = 0, t = 0; c < total; ++c) {
      const o = firsts[c] * q;
      for (let j = 0; j < q; ++j, ++t) out[t] = src[o + j];
      for (let d = 0; d < changed.length; ++d) out[c * q + changed[d]] = changedMaps[d][src[o + changed[d]]];
    }
    return out;
  };
  const srcCounts = from.counts;
  if (!from.sensitive) {
    const sizes = new Int32Array(classes);
    for (let i = 0; i < n; ++i) sizes[classOfSource[i]] += srcCounts[i];
    const keys = classKeys ? classKeys.slice(0, classes) : null;
    const codes = codesOf(firstSource, classes);
    return {levels: [...levels], cells: classes, codes, counts: sizes, sensitive: null, classes, classOf: null, classSizes: sizes, keys};
  }
  // With sensitive attributes: cells are (class, joint sensitive value).
  const cellTable = scratch.cells;
  cellTable.reset(n);
  const srcSensitive = from.sensitive;
  const cellOfSource = ensureInt32(scratch, "cellOfSource", n);
  const firstOfCell = ensureInt32(scratch, "firstOfCell", n);
  const classSizes = new Int32Array(classes);
  // Key (class, joint value) as class * values + value: exact below 2^53 (class * 2^32 + value was not
  // once there are 2^21 classes).
  let values = 1;
  for (let i = 0; i < n; ++i) if (srcSensitive[i] >= values) values = srcSensitive[i] + 1;
  if (classes * values > Number.MAX_SAFE_INTEGER) throw new Error(`${classes} classes x ${values} sensitive values: too many to key exactly`);
  let cells = 0;
  for (let i = 0; i < n; ++i) {
    const c = classOfSource[i];
    classSizes[c] += srcCounts[i];
    const slot = cellTable.slot(c * values + srcSensitive[i]);
    let cell = cellTable.value(slot);
    if (cell < 0) {
      cell = cells++;
      cellTable.set(slot, cell);
      firstOfCell[cell] = i;
    }
    cellOfSource[i] = cell;
  }
  const cellCounts = new Int32Array(cells);
  for (let i = 0; i < n; ++i) cellCounts[cellOfSource[i]] += srcCounts[i];
  const sensitive = new Int32Array(cells);
  const classOf = new Int32Array(cells);
  const keys = classKeys ? new Float64Array(cells) : null;
  for (let cell = 0; cell < cells; ++cell) {
    const i = firstOfCell[cell];
    sensitive[cell] = srcSensitive[i];
    classOf[cell] = classOfSource[i];
    if (keys) keys[cell] = classKeys![classOfSource[i]];
  }
  return {levels: [...levels], cells, codes: codesOf(firstOfCell, cells), counts: cellCounts, sensitive, classes, classOf, classSizes, keys};
}

/**
 * A node whose codes are decoded from its (fixed-stride) keys when first read (rollUpClassSizes: the
 * frontier only reads class sizes). A class, not an object literal with a getter: that would put the
 * object in V8's slow dictionary mode and slow every property read in the hot loops.
 */
class KeyedNodeClasses implements NodeClasses {
  private decoded: Int32Array | null = null;
  readonly levels: number[];
  readonly cells: number;
  readonly counts: Int32Array;
  readonly sensitive = null;
  readonly classes: number;
  readonly classOf = null;
  readonly classSizes: Int32Array;
  constructor(private readonly classCounts: ClassCounts, levels: number[], sizes: Int32Array, readonly keys: Float64Array) {
    this.levels = levels;
    this.cells = this.classes = sizes.length;
    this.counts = this.classSizes = sizes;
  }
  get codes(): Int32Array {
    return (this.decoded ??= decodeKeys(this.classCounts, this.keys, this.cells));
  }
}

/**
 * Code of quasi-identifier j in a fixed-stride key: floor(key / s_j) - floor(key / (s_j * r_j)) * r_j
 * (r_j: number of original values, s_j * r_j: the next stride up or the product of all radices).
 * Exact in doubles: for an integer key < P <= 2^53 and a stride s dividing P, with a = floor(key / s),
 * (a + 1) * s <= P, so the rounding error of key / s (at most (a + 1) * 2^-53) stays below the 1/s that
 * separates it from a + 1.
 */
function decodeKeys(counts: ClassCounts, keys: Float64Array, cells: number): Int32Array {
  const q = counts.quasiIdentifiers.length;
  const {stride, radix, above} = keyDigits(counts);
  const out = new Int32Array(cells * q);
  for (let j = 0; j < q; ++j) {
    const s = stride[j];
    const r = radix[j];
    const m = above[j];
    for (let i = 0, t = j; i < cells; ++i, t += q) {
      const key = keys[i];
      out[t] = Math.floor(key / s) - Math.floor(key / m) * r;
    }
  }
  return out;
}

function keyDigits(counts: ClassCounts): {stride: Float64Array; radix: Float64Array; above: Float64Array} {
  const strides = counts.strides!;
  const radix = Float64Array.from(counts.quasiIdentifiers, (qi) => Math.max(1, qi.labels[0].length));
  return {stride: strides, radix, above: Float64Array.from(strides, (s, j) => s * radix[j])};
}

function rollUpMaps(counts: ClassCounts, from: readonly number[], levels: readonly number[]): Int32Array[] {
  return counts.quasiIdentifiers.map((qi, j) => {
    const m = qi.rollUp[from[j]][levels[j]];
    if (!m) throw new Error(`cannot roll up ${from} to ${levels}`);
    return m;
  });
}

type Int32Scratch = "classOfSource" | "firstSource" | "cellOfSource" | "firstOfCell" | "hashes" | "partSource" | "provisional" | "remap";

function ensureInt32(scratch: RollUpScratch, name: Int32Scratch, size: number): Int32Array {
  if (scratch[name].length < size) scratch[name] = new Int32Array(Math.max(size, scratch[name].length * 2));
  return scratch[name];
}

function ensureFloat64(scratch: RollUpScratch, name: "classKeys" | "partialKeys" | "targetKeys" | "partKeys", size: number): Float64Array {
  if (scratch[name].length < size) scratch[name] = new Float64Array(Math.max(size, scratch[name].length * 2));
  return scratch[name];
}

/**
 * The class (at `levels`) of every cell of `from`, numbered in order of first appearance: the hot
 * loop of the search. With fixed-stride keys (the usual case), each cell's key at `levels` follows
 * from its key at `from` (only the quasi-identifiers whose level changes move it); otherwise a
 * mixed-radix key over the codes at `levels` (or a string dictionary when even that overflows 2^53).
 */
function assignClasses(
  counts: ClassCounts,
  from: NodeClasses,
  levels: readonly number[],
  scratch: RollUpScratch
): {classOfSource: Int32Array; firstSource: Int32Array; classes: number; classKeys: Float64Array | null} {
  const q = counts.quasiIdentifiers.length;
  const n = from.cells;
  if (counts.strides && from.keys) return groupKeys(targetKeys(counts, from, levels, scratch), scratch);
  const maps = rollUpMaps(counts, from.levels, levels);
  const src = from.codes;
  // Mixed radix over the codes at `levels`; whenever the next factor would overflow 2^53 the partial
  // keys are first renumbered densely (ids < cells), so any number of quasi-identifiers fits.
  const table = scratch.classes;
  const partial = ensureFloat64(scratch, "partialKeys", n);
  partial.fill(0, 0, n);
  let range = 1;
  const densify = () => {
    table.reset(n);
    let ids = 0;
    for (let i = 0; i < n; ++i) {
      const slot = table.slot(partial[i]);
      let id = table.value(slot);
      if (id < 0) table.set(slot, (id = ids++));
      partial[i] = id;
    }
    range = ids;
  };
  for (let j = 0; j < q; ++j) {
    const radix = counts.quasiIdentifiers[j].labels[levels[j]].length;
    if (range * radix > Number.MAX_SAFE_INTEGER) densify();
    const map = maps[j];
    for (let i = 0, o = j; i < n; ++i, o += q) partial[i] = partial[i] * radix + map[src[o]];
    range *= radix;
  }
  const {classOfSource, firstSource, classes} = groupKeys(hashedKeys(partial, n, scratch), scratch);
  return {classOfSource, firstSource, classes, classKeys: null};
}

/** Keys prepared for groupKeys: with their hashes and partition sizes when there are enough of them. */
function hashedKeys(keys: Float64Array, n: number, scratch: RollUpScratch): TargetKeys {
  const bits = n >= PARTITION_MIN_CELLS ? Math.ceil(Math.log2(n / PARTITION_CELLS)) : 0;
  const start = new Int32Array((1 << bits) + 1);
  if (!bits) return {n, keys, bits, hashes: scratch.hashes, start};
  const shift = 32 - bits;
  const hashes = ensureInt32(scratch, "hashes", n);
  for (let i = 0; i < n; ++i) {
    const h = hashKey(keys[i]);
    hashes[i] = h;
    start[(h >>> shift) + 1]++;
  }
  return {n, keys, bits, hashes, start};
}

/** Above this many cells, grouping goes through cache-sized partitions (see groupKeys). */
const PARTITION_MIN_CELLS = 1 << 15;
const PARTITION_CELLS = 1 << 13;
/** rollUpClassSizes blocks by a quasi-identifier when that makes blocks of at most this many cells on average. */
const MAX_BLOCK_CELLS = 1 << 15;

function hashKey(key: number): number {
  const h = Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x27d4eb2d), 0x9e3779b1);
  return h ^ (h >>> 16);
}

/** Each cell's key at `levels`; for partitioned grouping also its hash and the partition sizes. */
interface TargetKeys {
  n: number;
  keys: Float64Array;
  /** log2 of the number of partitions (0: no partitioning). */
  bits: number;
  hashes: Int32Array;
  /** start[p + 1]: cells in partition p (prefix sums taken by scatterPartitions). */
  start: Int32Array;
}

/**
 * The fixed-stride key at `levels` of every cell of `from`: only the quasi-identifiers whose level
 * changes move it, by (code at levels - code at from.levels) * stride, the code at from.levels
 * being decoded from the key itself (exact: see decodeKeys).
 */
function targetKeys(counts: ClassCounts, from: NodeClasses, levels: readonly number[], scratch: RollUpScratch, partition = true): TargetKeys {
  const q = counts.quasiIdentifiers.length;
  const n = from.cells;
  const fromKeys = from.keys!;
  const maps = rollUpMaps(counts, from.levels, levels);
  const changed: number[] = [];
  for (let j = 0; j < q; ++j) if (from.levels[j] !== levels[j]) changed.push(j);
  const k = changed.length;
  const {stride, radix, above} = keyDigits(counts);
  const cs = Float64Array.from(changed, (j) => stride[j]);
  const cr = Float64Array.from(changed, (j) => radix[j]);
  const cm = Float64Array.from(changed, (j) => above[j]);
  const offset = new Int32Array(k);
  let total = 0;
  for (let d = 0; d < k; ++d) {
    offset[d] = total;
    total += maps[changed[d]].length;
  }
  const flat = new Int32Array(total);
  for (let d = 0; d < k; ++d) flat.set(maps[changed[d]], offset[d]);
  const keys = ensureFloat64(scratch, "targetKeys", n);
  const bits = partition && n >= PARTITION_MIN_CELLS ? Math.ceil(Math.log2(n / PARTITION_CELLS)) : 0;
  const shift = 32 - bits;
  const hashes = bits ? ensureInt32(scratch, "hashes", n) : scratch.hashes;
  const start = new Int32Array((1 << bits) + 1);
  for (let i = 0; i < n; ++i) {
    const key0 = fromKeys[i];
    let key = key0;
    for (let d = 0; d < k; ++d) {
      const c = Math.floor(key0 / cs[d]) - Math.floor(key0 / cm[d]) * cr[d];
      key += (flat[offset[d] + c] - c) * cs[d];
    }
    keys[i] = key;
    if (bits) {
      const h = hashKey(key);
      hashes[i] = h;
      start[(h >>> shift) + 1]++;
    }
  }
  return {n, keys, bits, hashes, start};
}

/**
 * Scatter the cells by the top `bits` bits of their hash into partitions, keeping their order
 * within each: partition p holds partKeys/partSource[start[p] .. start[p + 1]).
 */
function scatterPartitions(t: TargetKeys, scratch: RollUpScratch): {partKeys: Float64Array; partSource: Int32Array; start: Int32Array; partitions: number} {
  const {n, keys, hashes, start, bits} = t;
  const partitions = 1 << bits;
  const shift = 32 - bits;
  for (let p = 0; p < partitions; ++p) start[p + 1] += start[p];
  const fill = start.slice(0, partitions);
  const partKeys = ensureFloat64(scratch, "partKeys", n);
  const partSource = ensureInt32(scratch, "partSource", n);
  for (let i = 0; i < n; ++i) {
    const at = fill[hashes[i] >>> shift]++;
    partKeys[at] = keys[i];
    partSource[at] = i;
  }
  return {partKeys, partSource, start, partitions};
}

/**
 * Group equal keys, numbering the groups in order of first appearance; classKeys[c] is group c's key.
 * A hash table over a million keys is far larger than the CPU caches (and the TLB's reach), so every
 * probe would miss: above PARTITION_MIN_CELLS the keys are first scattered by the top bits of their
 * hash into partitions of about PARTITION_CELLS keys (in order, so a group's first key in its
 * partition is its first key overall), each grouped with a small table, and the provisional group
 * ids are then renumbered in order of first appearance. The result is the same either way.
 */
function groupKeys(t: TargetKeys, scratch: RollUpScratch): {classOfSource: Int32Array; firstSource: Int32Array; classes: number; classKeys: Float64Array} {
  const {n, keys} = t;
  const classOfSource = ensureInt32(scratch, "classOfSource", n);
  const firstSource = ensureInt32(scratch, "firstSource", n);
  const classKeys = ensureFloat64(scratch, "classKeys", n);
  let classes = 0;
  if (!t.bits) {
    const table = scratch.classes;
    table.reset(n);
    const slots = table.slots;
    const stamp = table.stamp;
    const wrap = (table.mask << 1) | 1;
    for (let i = 0; i < n; ++i) {
      const key = keys[i];
      let h = (hashKey(key) & table.mask) << 1;
      for (;;) {
        const v = slots[h + 1];
        if (v < stamp) {
          slots[h] = key;
          slots[h + 1] = stamp + classes;
          firstSource[classes] = i;
          classKeys[classes] = key;
          classOfSource[i] = classes++;
          break;
        }
        if (slots[h] === key) {
          classOfSource[i] = v - stamp;
          break;
        }
        h = (h + 2) & wrap;
      }
    }
    return {classOfSource, firstSource, classes, classKeys};
  }
  const {partKeys, partSource, start, partitions} = scatterPartitions(t, scratch);
  // provisional[i]: ~id for the first key of a group, else id (ids numbered partition by partition).
  const provisional = ensureInt32(scratch, "provisional", n);
  const table = scratch.partition;
  let ids = 0;
  for (let p = 0; p < partitions; ++p) {
    const end = start[p + 1];
    table.reset(end - start[p]);
    const slots = table.slots;
    const stamp = table.stamp;
    const mask = table.mask;
    const wrap = (mask << 1) | 1;
    for (let at = start[p]; at < end; ++at) {
      const key = partKeys[at];
      // The low bits of the hash (the partition took the top ones).
      let h = (hashKey(key) & mask) << 1;
      for (;;) {
        const v = slots[h + 1];
        if (v < stamp) {
          slots[h] = key;
          slots[h + 1] = stamp + ids;
          provisional[partSource[at]] = ~ids++;
          break;
        }
        if (slots[h] === key) {
          provisional[partSource[at]] = v - stamp;
          break;
        }
        h = (h + 2) & wrap;
      }
    }
  }
  const remap = ensureInt32(scratch, "remap", ids);
  for (let i = 0; i < n; ++i) {
    const v = provisional[i];
    if (v < 0) {
      remap[~v] = classes;
      firstSource[classes] = i;
      classKeys[classes] = keys[i];
      classOfSource[i] = classes++;
    } else classOfSource[i] = remap[v];
  }
  return {classOfSource, firstSource, classes, classKeys};
}

/**
 * Like rollUpClasses for a node without sensitive attributes and with fixed-stride keys, but the
 * classes come in no particular order: for figures that only add up integer class sizes, such as
 * the frontier's. Rolling up such a node again gives the same classes (in some order).
 *
 * The classes are kept in blocks by the code of one quasi-identifier (the block dimension, the one
 * with the most values at the node's level), blocks ordered by the codes' paths from the top of
 * the hierarchy. Classes never straddle blocks, and generalizing the block dimension only merges
 * adjacent blocks, so a rollup groups each block (a few hundred to a few thousand cells) with a
 * table that stays in the CPU cache, without scattering the cells first; only when the block
 * dimension reaches the top of its hierarchy are the cells scattered into blocks by another one.
 */
export function rollUpClassSizes(counts: ClassCounts, from: NodeClasses, levels: readonly number[], scratch: RollUpScratch = defaultScratch): NodeClasses {
  if (from.sensitive || !from.keys || !counts.strides) throw new Error("rollUpClassSizes needs fixed-stride keys and no sensitive attributes");
  if (from.cells < PARTITION_MIN_CELLS) return rollUpClasses(counts, from, levels, scratch);
  const fromBlocks = blockings.get(from);
  // Keep from's block dimension while it is below the top and its blocks stay small.
  const kept = fromBlocks && levels[fromBlocks.dim] < counts.quasiIdentifiers[fromBlocks.dim].height - 1 && from.cells / counts.quasiIdentifiers[fromBlocks.dim].labels[levels[fromBlocks.dim]].length <= MAX_BLOCK_CELLS;
  const dim = kept ? fromBlocks.dim : blockDimension(counts, levels, from.cells);
  if (dim < 0) return rollUpClassSizesHashed(counts, from, levels, scratch);
  const t = targetKeys(counts, from, levels, scratch, false);
  const n = t.n;
  const level = levels[dim];
  const ranks = blockRanks(counts, dim);
  const rank = ranks.rank[level];
  const blocks = rank.length;
  // blockStart[r]..blockStart[r + 1]: the cells (of keysIn/countsIn) of block r at `levels`.
  const blockStart = new Int32Array(blocks + 1);
  let keysIn: Float64Array;
  let countsIn: Int32Array;
  if (fromBlocks && fromBlocks.dim === dim) {
    // The same dimension at the same or a higher level: each block is a run of adjacent blocks of `from`.
    const up = counts.quasiIdentifiers[dim].rollUp[fromBlocks.level][level]!;
    const fromCode = ranks.code[fromBlocks.level];
    for (let r = 0; r < fromCode.length; ++r) blockStart[rank[up[fromCode[r]]] + 1] = fromBlocks.start[r + 1];
    for (let r = 0; r < blocks; ++r) if (blockStart[r + 1] < blockStart[r]) blockStart[r + 1] = blockStart[r];
    keysIn = t.keys;
    countsIn = from.counts;
  } else {
    // Scatter by the block dimension's code at `levels` (decoded from the target key, as in decodeKeys).
    const {stride, radix, above} = keyDigits(counts);
    const sd = stride[dim];
    const rd = radix[dim];
    const md = above[dim];
    const keys = t.keys;
    const blockOf = ensureInt32(scratch, "hashes", n);
    for (let i = 0; i < n; ++i) {
      const key = keys[i];
      const r = rank[Math.floor(key / sd) - Math.floor(key / md) * rd];
      blockOf[i] = r;
      blockStart[r + 1]++;
    }
    for (let r = 0; r < blocks; ++r) blockStart[r + 1] += blockStart[r];
    const fill = blockStart.slice(0, blocks);
    keysIn = ensureFloat64(scratch, "partKeys", n);
    countsIn = ensureInt32(scratch, "partSource", n);
    const srcCounts = from.counts;
    for (let i = 0; i < n; ++i) {
      const at = fill[blockOf[i]]++;
      keysIn[at] = keys[i];
      countsIn[at] = srcCounts[i];
    }
  }
  const sizes = ensureInt32(scratch, "provisional", n);
  const classKeys = ensureFloat64(scratch, "classKeys", n);
  const start = new Int32Array(blocks + 1);
  const table = scratch.partition;
  let classes = 0;
  for (let r = 0; r < blocks; ++r) {
    const end = blockStart[r + 1];
    table.reset(end - blockStart[r]);
    const slots = table.slots;
    const stamp = table.stamp;
    const mask = table.mask;
    const wrap = (mask << 1) | 1;
    for (let i = blockStart[r]; i < end; ++i) {
      const key = keysIn[i];
      const count = countsIn[i];
      let h = (hashKey(key) & mask) << 1;
      for (;;) {
        const v = slots[h + 1];
        if (v < stamp) {
          slots[h] = key;
          slots[h + 1] = stamp + classes;
          classKeys[classes] = key;
          sizes[classes++] = count;
          break;
        }
        if (slots[h] === key) {
          sizes[v - stamp] += count;
          break;
        }
        h = (h + 2) & wrap;
      }
    }
    start[r + 1] = classes;
  }
  const node = new KeyedNodeClasses(counts, [...levels], sizes.slice(0, classes), classKeys.slice(0, classes));
  blockings.set(node, {dim, level, start});
  return node;
}

/** How rollUpClassSizes laid out a node's classes: blocks by the code of `dim` at `level`, in rank order. */
interface Blocking {
  dim: number;
  level: number;
  /** start[r]..start[r + 1]: the classes of block r (codes in blockRanks order). */
  start: Int32Array;
}

const blockings = new WeakMap<NodeClasses, Blocking>();

/**
 * The quasi-identifier below the top of its hierarchy with the most values at `levels`, or -1 when
 * none would give blocks of a cache-friendly size (then the grouping goes by hash partitions).
 */
function blockDimension(counts: ClassCounts, levels: readonly number[], cells: number): number {
  if (!counts.treeShaped) return -1;
  let best = -1;
  let values = 1;
  counts.quasiIdentifiers.forEach((qi, j) => {
    const v = qi.labels[levels[j]].length;
    if (levels[j] < qi.height - 1 && v > values) {
      best = j;
      values = v;
    }
  });
  return best >= 0 && cells / values <= MAX_BLOCK_CELLS ? best : -1;
}

/**
 * Codes of one (tree-shaped) hierarchy ordered, at every level, by their path from the top: then the
 * values under one generalized value are adjacent at every finer level. rank[level][code] is a code's
 * position, code[level][rank] the inverse.
 */
function blockRanks(counts: ClassCounts, dim: number): {rank: Int32Array[]; code: Int32Array[]} {
  let perDim = rankCache.get(counts);
  if (!perDim) rankCache.set(counts, (perDim = []));
  const hit = perDim[dim];
  if (hit) return hit;
  const qi = counts.quasiIdentifiers[dim];
  const h = qi.height;
  const rank: Int32Array[] = [];
  const code: Int32Array[] = [];
  for (let l = 0; l < h; ++l) {
    const ups: Int32Array[] = [];
    for (let m = h - 1; m > l; --m) ups.push(qi.rollUp[l][m]!);
    const order = Int32Array.from({length: qi.labels[l].length}, (_, c) => c).sort((a, b) => {
      for (const up of ups) if (up[a] !== up[b]) return up[a] - up[b];
      return a - b;
    });
    code.push(order);
    const r = new Int32Array(order.length);
    order.forEach((c, i) => (r[c] = i));
    rank.push(r);
  }
  return (perDim[dim] = {rank, code});
}

const rankCache = new WeakMap<ClassCounts, ({rank: Int32Array[]; code: Int32Array[]} | undefined)[]>();

/** rollUpClassSizes by hash partitions (no block dimension fits). */
function rollUpClassSizesHashed(counts: ClassCounts, from: NodeClasses, levels: readonly number[], scratch: RollUpScratch): NodeClasses {
  const t = targetKeys(counts, from, levels, scratch, true);
  const {partKeys, partSource, start, partitions} = scatterPartitions(t, scratch);
  const srcCounts = from.counts;
  const sizes = ensureInt32(scratch, "provisional", t.n);
  const classKeys = ensureFloat64(scratch, "classKeys", t.n);
  const table = scratch.partition;
  let classes = 0;
  for (let p = 0; p < partitions; ++p) {
    const end = start[p + 1];
    table.reset(end - start[p]);
    const slots = table.slots;
    const stamp = table.stamp;
    const mask = table.mask;
    const wrap = (mask << 1) | 1;
    for (let at = start[p]; at < end; ++at) {
      const key = partKeys[at];
      const count = srcCounts[partSource[at]];
      let h = (hashKey(key) & mask) << 1;
      for (;;) {
        const v = slots[h + 1];
        if (v < stamp) {
          slots[h] = key;
          slots[h + 1] = stamp + classes;
          classKeys[classes] = key;
          sizes[classes++] = count;
          break;
        }
        if (slots[h] === key) {
          sizes[v - stamp] += count;
          break;
        }
        h = (h + 2) & wrap;
      }
    }
  }
  return new KeyedNodeClasses(counts, [...levels], sizes.slice(0, classes), classKeys.slice(0, classes));
}

/** Turns a node's per-QI codes into one numeric key: mixed radix when it fits in 2^53, else a string-keyed dictionary. */
class CodeKeyer {
  readonly radix: number[];
  readonly exact: boolean;
  readonly product: number;
  private readonly dictionary = new Map<string, number>();
  constructor(counts: ClassCounts, levels: readonly number[]) {
    this.radix = counts.quasiIdentifiers.map((qi, j) => qi.labels[levels[j]].length);
    let product = 1;
    for (const r of this.radix) product *= r;
    this.exact = product <= Number.MAX_SAFE_INTEGER;
    this.product = product;
  }
  keyOf(codes: Int32Array, offset: number): number {
    return this.keyOfCodes(codes.subarray(offset, offset + this.radix.length));
  }
  keyOfCodes(codes: ArrayLike<number>): number {
    if (this.exact) {
      let key = 0;
      for (let j = 0; j < this.radix.length; ++j) key = key * this.radix[j] + codes[j];
      return key;
    }
    const text = Array.prototype.join.call(codes, ",");
    let id = this.dictionary.get(text);
    if (id === undefined) this.dictionary.set(text, (id = this.dictionary.size));
    return id;
  }
}

/**
 * Open-addressing hash table from non-negative integer keys (< 2^53) to int values, reused across
 * rollups: a generation stamp marks live slots, so resetting costs nothing. A slot's key and its
 * stamped value sit side by side (one cache line per probe: at a million classes the table is far
 * larger than the CPU caches, and the probes are the cost of a rollup).
 */
export class KeyTable {
  /** slots[2i]: key; slots[2i + 1]: stamp + value when live (stamp = generation * 2^31), less when empty. */
  slots = new Float64Array(0);
  generation = 0;
  stamp = 0;
  mask = 0;

  reset(expected: number): void {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    if (capacity * 2 > this.slots.length) {
      this.slots = new Float64Array(capacity * 2);
      this.generation = 0;
    }
    // Only as many slots as needed: a small rollup after a large one stays within the caches.
    this.mask = capacity - 1;
    if (++this.generation === 1 << 21) {
      this.slots.fill(0);
      this.generation = 1;
    }
    this.stamp = this.generation * 2147483648;
  }

  /** Slot of `key`: its own if present, else the empty slot where it goes. */
  slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 16;
    let i = h & this.mask;
    const slots = this.slots;
    const stamp = this.stamp;
    while (slots[2 * i + 1] >= stamp) {
      if (slots[2 * i] === key) return i;
      i = (i + 1) & this.mask;
    }
    slots[2 * i] = key;
    return i;
  }

  value(slot: number): number {
    const t = this.slots[2 * slot + 1];
    return t >= this.stamp ? t - this.stamp : -1;
  }

  set(slot: number, value: number): void {
    this.slots[2 * slot + 1] = this.stamp + value;
  }
}

export interface RollUpScratch {
  classes: KeyTable;
  cells: KeyTable;
  partition: KeyTable;
  classOfSource: Int32Array;
  firstSource: Int32Array;
  cellOfSource: Int32Array;
  firstOfCell: Int32Array;
  hashes: Int32Array;
  partSource: Int32Array;
  provisional: Int32Array;
  remap: Int32Array;
  classKeys: Float64Array;
  partialKeys: Float64Array;
  targetKeys: Float64Array;
  partKeys: Float64Array;
}

export function createRollUpScratch(): RollUpScratch {
  const int32 = () => new Int32Array(0);
  const float64 = () => new Float64Array(0);
  return {
    classes: new KeyTable(),
    cells: new KeyTable(),
    partition: new KeyTable(),
    classOfSource: int32(),
    firstSource: int32(),
    cellOfSource: int32(),
    firstOfCell: int32(),
    hashes: int32(),
    partSource: int32(),
    provisional: int32(),
    remap: int32(),
    classKeys: float64(),
    partialKeys: float64(),
    targetKeys: float64(),
    partKeys: float64()
  };
}

const defaultScratch = createRollUpScratch();
