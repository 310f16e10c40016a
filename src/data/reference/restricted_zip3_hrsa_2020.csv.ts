// Framework data loader: ships data/reference/zip3/restricted_zip3_hrsa_2020.csv (see its SOURCE.md) to the browser.
import {readReferenceFile} from "../../../loaders/reference-files.js";
process.stdout.write(readReferenceFile("zip3/restricted_zip3_hrsa_2020.csv"));
