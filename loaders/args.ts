/** Parsed command-line flags: every flag may repeat, so values are arrays. */
export class Flags {
  constructor(readonly values: Map<string, string[]>, readonly positional: string[]) {}
  has(name: string): boolean {
    return this.values.has(name);
  }
  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v?.[v.length - 1];
  }
  require(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === "true") throw new UsageError(`missing required flag --${name}`);
    return v;
  }
  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  number(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  }
  boolean(name: string): boolean {
    const v = this.string(name);
    return v !== undefined && v !== "false";
  }
}

export class UsageError extends Error {
  name = "UsageError";
}

/**
 * Parse `--name value`, `--name=value` and bare `--switch` flags. A flag listed in `switches`
 * never consumes the next argument. Unknown flags are rejected when `known` is given.
 */
export function parseFlags(argv: string[], {switches = [], known}: {switches?: string[]; known?: string[]} = {}): Flags {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value: string;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (switches.includes(name) || i + 1 >= argv.length || argv[i + 1].startsWith("--")) {
      value = "true";
    } else {
      value = argv[++i];
    }
    if (known && !known.includes(name) && !switches.includes(name)) throw new UsageError(`unknown flag --${name}`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return new Flags(values, positional);
}
