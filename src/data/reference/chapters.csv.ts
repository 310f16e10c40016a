// Framework data loader: ships data/reference/icd10/chapters.csv (see its SOURCE.md) to the browser.
import {readReferenceFile} from "../../../loaders/reference-files.js";
process.stdout.write(readReferenceFile("icd10/chapters.csv"));
