import {mkdirSync} from "node:fs";

// Framework's client bundle asks the npm registry for versions of these even when no page uses
// them; pre-creating the version folders lets `observable build` run with no network at all.
const seeded = [
  "@observablehq/plot@0.6.17", "@observablehq/sample-datasets@1.0.1", "apache-arrow@17.0.0", "arquero@8.0.3",
  "d3-dsv@3.0.2", "d3@7.9.2", "echarts@6.1.0", "htl@0.3.1", "leaflet@1.9.4", "lodash@4.18.1", "mapbox-gl@3.32.0",
  "parquet-wasm@0.8.0", "react-dom@19.3.1", "react@19.3.1", "topojson-client@3.1.0"
];

export function seedNpmCache() {
  for (const spec of seeded) mkdirSync(`src/.observablehq/cache/_npm/${spec}`, {recursive: true});
}

if (import.meta.url === `file://${process.argv[1]}`) seedNpmCache();
