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
  const changed: number[] = [];
  for (let j = 0; j < q; ++j) if (from.levels[j] !== levels[j]) changed.push(j);
  const changedMaps = changed.map((j) => counts.quasiIdentifiers[j].rollUp[from.levels[j]][levels[j]]!);
  const src = from.codes;
  const codesOf = (firsts: Int32Array, total: number) => {
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
  let cells = 0;
  for (let i = 0; i < n; ++i) {
    const c = classOfSource[i];
    classSizes[c] += srcCounts[i];
    const slot = cellTable.slot(c * 4294967296 + srcSensitive[i]);
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

function rollUpMaps(counts: ClassCounts, from: readonly number[], levels: readonly number[]): Int32Array[] {
  return counts.quasiIdentifiers.map((qi, j) => {
    const m = qi.rollUp[from[j]][levels[j]];
    if (!m) throw new Error(`cannot roll up ${from} to ${levels}`);
    return m;
  });
}

function ensureInt32(scratch: RollUpScratch, name: "classOfSource" | "firstSource" | "cellOfSource" | "firstOfCell", size: number): Int32Array {
  if (scratch[name].length < size) scratch[name] = new Int32Array(Math.max(size, scratch[name].length * 2));
  return scratch[name];
}

/**
 * The class (at `levels`) of every cell of `from`, numbered in order of first appearance: the hot
 * loop of the search. With fixed-stride keys (the usual case), only the quasi-identifiers whose
 * level changes touch the key; otherwise a mixed-radix key over the codes at `levels` (or a
 * string dictionary when even that overflows 2^53).
 */
function assignClasses(
  counts: ClassCounts,
  from: NodeClasses,
  levels: readonly number[],
  scratch: RollUpScratch
): {classOfSource: Int32Array; firstSource: Int32Array; classes: number; classKeys: Float64Array | null} {
  const q = counts.quasiIdentifiers.length;
  const n = from.cells;
  const maps = rollUpMaps(counts, from.levels, levels);
  const classOfSource = ensureInt32(scratch, "classOfSource", n);
  const firstSource = ensureInt32(scratch, "firstSource", n);
  const src = from.codes;
  let classes = 0;
  const fromKeys = from.keys;
  const strides = counts.strides;
  if (strides && fromKeys) {
    if (scratch.classKeys.length < n) scratch.classKeys = new Float64Array(Math.max(n, scratch.classKeys.length * 2));
    const classKeys = scratch.classKeys;
    const changed: number[] = [];
    for (let j = 0; j < q; ++j) if (from.levels[j] !== levels[j]) changed.push(j);
    const k = changed.length;
    const cj = Int32Array.from(changed);
    const cs = Float64Array.from(changed, (j) => strides[j]);
    const offset = new Int32Array(k);
    let total = 0;
    for (let d = 0; d < k; ++d) {
      offset[d] = total;
      total += maps[cj[d]].length;
    }
    const flat = new Int32Array(total);
    for (let d = 0; d < k; ++d) flat.set(maps[cj[d]], offset[d]);
    const table = scratch.classes;
    table.reset(n);
    const keys = table.keys;
    const values = table.values;
    const stamps = table.stamps;
    const g = table.generation;
    const mask = table.mask;
    for (let i = 0, o = 0; i < n; ++i, o += q) {
      let key = fromKeys[i];
      for (let d = 0; d < k; ++d) {
        const c = src[o + cj[d]];
        key += (flat[offset[d] + c] - c) * cs[d];
      }
      let h = Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x27d4eb2d), 0x9e3779b1);
      h = (h ^ (h >>> 16)) & mask;
      for (;;) {
        if (stamps[h] !== g) {
          stamps[h] = g;
          keys[h] = key;
          values[h] = classes;
          firstSource[classes] = i;
          classKeys[classes] = key;
          classOfSource[i] = classes++;
          break;
        }
        if (keys[h] === key) {
          classOfSource[i] = values[h];
          break;
        }
        h = (h + 1) & mask;
      }
    }
    return {classOfSource, firstSource, classes, classKeys};
  }
  // Mixed radix over the codes at `levels`; whenever the next factor would overflow 2^53 the partial
  // keys are first renumbered densely (ids < cells), so any number of quasi-identifiers fits.
  const table = scratch.classes;
  const partial = scratch.partialKeys.length >= n ? scratch.partialKeys : (scratch.partialKeys = new Float64Array(Math.max(n, scratch.partialKeys.length * 2)));
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
  table.reset(n);
  for (let i = 0; i < n; ++i) {
    const slot = table.slot(partial[i]);
    let c = table.value(slot);
    if (c < 0) {
      table.set(slot, (c = classes++));
      firstSource[c] = i;
    }
    classOfSource[i] = c;
  }
  return {classOfSource, firstSource, classes, classKeys: null};
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
 * rollups: a generation stamp marks live slots, so resetting costs nothing.
 */
export class KeyTable {
  keys = new Float64Array(0);
  values = new Int32Array(0);
  stamps = new Uint32Array(0);
  generation = 0;
  mask = 0;

  reset(expected: number): void {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    if (capacity > this.keys.length) {
      this.keys = new Float64Array(capacity);
      this.values = new Int32Array(capacity);
      this.stamps = new Uint32Array(capacity);
      this.generation = 0;
    }
    // The whole allocation, also when it is larger than needed: fewer collisions.
    this.mask = this.keys.length - 1;
    if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** Slot of `key`: its own if present, else the empty slot where it goes. */
  slot(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 16;
    let i = h & this.mask;
    const stamps = this.stamps;
    const keys = this.keys;
    const g = this.generation;
    while (stamps[i] === g) {
      if (keys[i] === key) return i;
      i = (i + 1) & this.mask;
    }
    keys[i] = key;
    this.values[i] = -1;
    return i;
  }

  value(slot: number): number {
    return this.stamps[slot] === this.generation ? this.values[slot] : -1;
  }

  set(slot: number, value: number): void {
    this.stamps[slot] = this.generation;
    this.values[slot] = value;
  }
}

export interface RollUpScratch {
  classes: KeyTable;
  cells: KeyTable;
  classOfSource: Int32Array;
  firstSource: Int32Array;
  cellOfSource: Int32Array;
  firstOfCell: Int32Array;
  classKeys: Float64Array;
  partialKeys: Float64Array;
}

export function createRollUpScratch(): RollUpScratch {
  const empty = () => new Int32Array(0);
  return {classes: new KeyTable(), cells: new KeyTable(), classOfSource: empty(), firstSource: empty(), cellOfSource: empty(), firstOfCell: empty(), classKeys: new Float64Array(0), partialKeys: new Float64Array(0)};
}

const defaultScratch = createRollUpScratch();
