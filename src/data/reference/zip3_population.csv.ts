// Framework data loader: ships data/reference/zip3/zip3_population.csv (see its SOURCE.md) to the browser.
import {readReferenceFile} from "../../../loaders/reference-files.js";
process.stdout.write(readReferenceFile("zip3/zip3_population.csv"));
