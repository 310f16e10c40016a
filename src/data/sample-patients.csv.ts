// Framework data loader: ships the bundled synthetic sample (data/sample-patients.csv) with the site.
import {readSampleCsv} from "../../loaders/sample.js";
process.stdout.write(readSampleCsv());
