import {existsSync} from "node:fs";
import {spawnSync} from "node:child_process";

// Playwright drives Debian's Chromium; browser downloads are not possible on these machines.
export function ensureChromium(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (existsSync(path)) return path;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && existsSync("/usr/bin/apt-get")) {
    console.log("ensure-chromium: installing Debian's chromium with apt-get (no browser download)…");
    const env = {...process.env, DEBIAN_FRONTEND: "noninteractive"};
    const update = spawnSync("apt-get", ["update"], {stdio: "inherit", env});
    const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], {stdio: "inherit", env}) : update;
    if (install.status === 0 && existsSync(path)) return path;
  }
  console.error(`ensure-chromium: Chromium not found at ${path}.\nInstall it with:  sudo apt-get update && sudo apt-get install -y chromium\nor set CHROMIUM_PATH to a Chromium/Chrome executable.`);
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureChromium());
