import {UsageError} from "./args.js";
import {commands} from "./commands/index.js";

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic && commands[topic]) process.stdout.write(commands[topic].usage + "\n");
    else process.stdout.write(formatHelp());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`deid-workbench: unknown command "${name}"\n\n${formatHelp()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`deid-workbench ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`deid-workbench ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.DEID_DEBUG) console.error(error);
    return 1;
  }
}

function formatHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    "deid-workbench: de-identification workbench for HIPAA Expert Determination",
    "",
    "Usage: deid-workbench <command> [flags]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    "",
    "Run `deid-workbench <command> --help` for the flags of one command.",
    ""
  ].join("\n");
}
