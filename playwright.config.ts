import {defineConfig} from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3127);

export default defineConfig({
  testDir: "test/e2e",
  timeout: 120_000,
  expect: {timeout: 60_000},
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: {width: 1280, height: 900},
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    }
  },
  projects: [{name: "chromium", use: {browserName: "chromium"}}],
  webServer: {command: `npx tsx scripts/serve.ts dist ${port}`, url: `http://127.0.0.1:${port}/`, reuseExistingServer: false, timeout: 60_000}
});
