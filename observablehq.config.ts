// Everything is served from this machine: no fonts from Google, no npm: imports, no built-in DuckDB.
export default {
  title: "deid-workbench",
  root: "src",
  output: "dist",
  globalStylesheets: [],
  theme: "air",
  search: false,
  head: '<link rel="icon" href="data:,">',
  toc: false,
  footer: "deid-workbench: offline de-identification workbench. Nothing leaves this machine.",
  duckdb: {extensions: {json: null, parquet: null}},
  pages: [
    {name: "Data", path: "/"},
    {name: "Dictionary", path: "/dictionary"},
    {name: "Risk", path: "/risk"},
    {name: "Explorer", path: "/explorer"},
    {name: "Export", path: "/export"}
  ]
};
