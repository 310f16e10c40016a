import {createServer} from "node:http";
import {createReadStream, statSync} from "node:fs";
import {extname, join, normalize, resolve} from "node:path";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".csv": "text/csv; charset=utf-8",
  ".arrow": "application/vnd.apache.arrow.file",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".onnx": "application/octet-stream"
};

/** Serve the built site from `root` on 127.0.0.1 with cross-origin isolation (needed for WebAssembly threads). */
export function serveStatic(root: string, port: number) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let path = normalize(join(base, decodeURIComponent(url.pathname)));
    if (!path.startsWith(base)) return void res.writeHead(403).end("forbidden");
    const candidates = [path, path + ".html", join(path, "index.html")];
    const file = candidates.find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
      "Cache-Control": "no-cache"
    };
    if (!file) return void res.writeHead(404, {...headers, "Content-Type": "text/plain"}).end("not found");
    res.writeHead(200, {...headers, "Content-Type": types[extname(file)] ?? "application/octet-stream", "Content-Length": statSync(file).size});
    createReadStream(file).pipe(res);
  });
  return new Promise<typeof server>((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? "dist";
  const port = Number(process.argv[3] ?? process.env.PORT ?? 3000);
  try {
    statSync(join(root, "index.html"));
  } catch {
    console.error(`serve: ${root}/index.html not found; run \`npm run build\` first`);
    process.exit(1);
  }
  await serveStatic(root, port);
  console.log(`deid-workbench is running at http://127.0.0.1:${port}/  (Ctrl-C to stop; nothing is sent off this machine)`);
}
