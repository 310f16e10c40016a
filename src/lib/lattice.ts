/**
 * The generalization lattice: one node per combination of hierarchy levels, one level per
 * quasi-identifier. Node n is a *generalization* of node m when every level of n is >= the level
 * of m (n >= m), a *specialization* when every level is <=. Nodes are numbered in mixed radix
 * (the first quasi-identifier varies slowest), so `index(levels)` is cheap and stable.
 */
export class Lattice {
  readonly heights: readonly number[];
  readonly dimensions: number;
  readonly size: number;
  /** index = sum(levels[j] * strides[j]). */
  readonly strides: readonly number[];
  /** levels of every node, row-major: node * dimensions + j. */
  private readonly table: Uint8Array;

  constructor(heights: readonly number[]) {
    if (heights.length === 0) throw new Error("a lattice needs at least one quasi-identifier");
    for (const h of heights) if (!Number.isInteger(h) || h < 1 || h > 255) throw new Error(`hierarchy height must be an integer 1..255, got ${h}`);
    this.heights = [...heights];
    this.dimensions = heights.length;
    const strides = new Array<number>(heights.length);
    let size = 1;
    for (let j = heights.length - 1; j >= 0; --j) {
      strides[j] = size;
      size *= heights[j];
    }
    if (size > 50_000_000) throw new Error(`the generalization lattice has ${size} nodes, more than the 50,000,000 this search handles; use fewer quasi-identifiers or shorter hierarchies`);
    this.size = size;
    this.strides = strides;
    this.table = new Uint8Array(size * heights.length);
    for (let n = 0; n < size; ++n) {
      let rest = n;
      for (let j = 0; j < heights.length; ++j) {
        this.table[n * heights.length + j] = Math.floor(rest / strides[j]);
        rest %= strides[j];
      }
    }
  }

  index(levels: ArrayLike<number>): number {
    if (levels.length !== this.dimensions) throw new Error(`expected ${this.dimensions} levels, got ${levels.length}`);
    let n = 0;
    for (let j = 0; j < this.dimensions; ++j) {
      const l = levels[j];
      if (!Number.isInteger(l) || l < 0 || l >= this.heights[j]) throw new Error(`level ${l} out of range 0..${this.heights[j] - 1} for quasi-identifier #${j + 1}`);
      n += l * this.strides[j];
    }
    return n;
  }

  levels(node: number): number[] {
    return Array.from(this.table.subarray(node * this.dimensions, (node + 1) * this.dimensions));
  }

  level(node: number, j: number): number {
    return this.table[node * this.dimensions + j];
  }

  levelSum(node: number): number {
    let s = 0;
    for (let j = 0, o = node * this.dimensions; j < this.dimensions; ++j) s += this.table[o + j];
    return s;
  }

  get bottom(): number {
    return 0;
  }

  get top(): number {
    return this.size - 1;
  }

  /** Direct generalizations: one quasi-identifier one level up. */
  successors(node: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.dimensions; ++j) if (this.level(node, j) + 1 < this.heights[j]) out.push(node + this.strides[j]);
    return out;
  }

  /** Direct specializations: one quasi-identifier one level down. */
  predecessors(node: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.dimensions; ++j) if (this.level(node, j) > 0) out.push(node - this.strides[j]);
    return out;
  }

  /** a >= b in every level. */
  generalizes(a: number, b: number): boolean {
    const q = this.dimensions;
    for (let j = 0; j < q; ++j) if (this.table[a * q + j] < this.table[b * q + j]) return false;
    return true;
  }

  /** Call `visit` for every node n <= node (node included). */
  forEachSpecialization(node: number, visit: (n: number) => void): void {
    this.walkBox(node, false, visit);
  }

  /** Call `visit` for every node n >= node (node included). */
  forEachGeneralization(node: number, visit: (n: number) => void): void {
    this.walkBox(node, true, visit);
  }

  private walkBox(node: number, up: boolean, visit: (n: number) => void): void {
    const q = this.dimensions;
    const lo = new Array<number>(q);
    const hi = new Array<number>(q);
    for (let j = 0; j < q; ++j) {
      const l = this.table[node * q + j];
      lo[j] = up ? l : 0;
      hi[j] = up ? this.heights[j] - 1 : l;
    }
    const cur = [...lo];
    let n = 0;
    for (let j = 0; j < q; ++j) n += cur[j] * this.strides[j];
    for (;;) {
      visit(n);
      let j = q - 1;
      while (j >= 0 && cur[j] === hi[j]) {
        n -= (cur[j] - lo[j]) * this.strides[j];
        cur[j] = lo[j];
        --j;
      }
      if (j < 0) return;
      cur[j]++;
      n += this.strides[j];
    }
  }
}
