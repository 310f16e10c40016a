/**
 * A synthetic, clinical-style patient table for demos, tests and benchmarks. Every value is drawn
 * from a seeded generator, so the same seed always gives byte-identical rows on every host (no clock,
 * no Math.random, and only IEEE-exact arithmetic: + - * / and rounding; exp is computed here rather
 * than with Math.exp, whose last bit may differ between JavaScript engines). Rows are streamed, so a
 * 10-million-row table never sits in memory. Distributions are documented in docs/semantics.md
 * ("Synthetic sample data").
 */
import {FIRST_NAMES_FEMALE, FIRST_NAMES_MALE, SURNAMES, ZIP3_AREAS} from "./sample-reference.js";

export type PatientValue = string | number | null;
export type PatientRecord = Record<string, PatientValue>;
export type PatientColumnRole = "direct-identifier" | "quasi-identifier" | "feature" | "outcome";

export interface PatientColumn {
  name: string;
  /** The DuckDB type read_csv infers for this column of a generated file (2,000+ rows). */
  type: "VARCHAR" | "BIGINT" | "DOUBLE" | "DATE";
  role: PatientColumnRole;
}

export const patientColumns: readonly PatientColumn[] = [
  {name: "mrn", type: "BIGINT", role: "direct-identifier"},
  {name: "patient_name", type: "VARCHAR", role: "direct-identifier"},
  {name: "ssn", type: "VARCHAR", role: "direct-identifier"},
  {name: "phone", type: "VARCHAR", role: "direct-identifier"},
  {name: "email", type: "VARCHAR", role: "direct-identifier"},
  {name: "birth_date", type: "DATE", role: "quasi-identifier"},
  {name: "sex", type: "VARCHAR", role: "quasi-identifier"},
  {name: "race", type: "VARCHAR", role: "quasi-identifier"},
  {name: "ethnicity", type: "VARCHAR", role: "quasi-identifier"},
  {name: "zip", type: "VARCHAR", role: "quasi-identifier"},
  {name: "admission_date", type: "DATE", role: "quasi-identifier"},
  {name: "age", type: "BIGINT", role: "quasi-identifier"},
  {name: "diagnosis_code", type: "VARCHAR", role: "quasi-identifier"},
  {name: "systolic_bp", type: "BIGINT", role: "feature"},
  {name: "bmi", type: "DOUBLE", role: "feature"},
  {name: "hba1c", type: "DOUBLE", role: "feature"},
  {name: "length_of_stay", type: "BIGINT", role: "feature"},
  {name: "num_prior_admissions", type: "BIGINT", role: "feature"},
  {name: "readmitted_30d", type: "BIGINT", role: "outcome"}
];

export interface GeneratePatientsOptions {
  rows: number;
  /** Any integer; default 1. */
  seed?: number;
}

/** Admissions fall in [2019-01-01, 2023-12-31]. */
export const ADMISSION_FIRST_YEAR = 2019;
export const ADMISSION_LAST_YEAR = 2023;
/** MRNs are 8-digit numbers, unique per row, so a table can hold at most this many rows. */
export const MAX_PATIENT_ROWS = 90_000_000;

// ---------------------------------------------------------------------------------------------
// Random numbers

/** mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast, and good enough for synthetic data. */
export function createRandom(seed: number): () => number {
  let state = mixSeed(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Spread nearby seeds (1, 2, 3...) far apart: the murmur3 32-bit finaliser over the seed's low and high words. */
function mixSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0;
  let h = (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal draw by the Irwin-Hall sum of 12 uniforms (exact arithmetic, tails cut at +-6). */
function normal(random: () => number): number {
  let s = 0;
  for (let i = 0; i < 12; ++i) s += random();
  return s - 6;
}

const LN2 = 0.6931471805599453;

/** exp(x) with only + - * /, so results are the same bits on every JavaScript engine. */
export function exactExp(x: number): number {
  if (x > 700) return Infinity;
  if (x < -700) return 0;
  const n = Math.round(x / LN2);
  const r = x - n * LN2;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 20; ++k) {
    term = (term * r) / k;
    sum += term;
  }
  let scale = 1;
  for (let i = 0; i < Math.abs(n); ++i) scale *= 2;
  return n >= 0 ? sum * scale : sum / scale;
}

/** A categorical distribution over integer weights, drawn by inverse CDF with binary search. */
class WeightedChoice<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;
  constructor(private readonly values: readonly T[], weights: readonly number[]) {
    let sum = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isInteger(w)) throw new Error(`weights must be non-negative integers, got ${w}`);
      this.cumulative.push((sum += w));
    }
    this.total = sum;
  }
  draw(random: () => number): T {
    const r = Math.floor(random() * this.total);
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo];
  }
}

function weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): WeightedChoice<T> {
  return new WeightedChoice(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1])
  );
}

// ---------------------------------------------------------------------------------------------
// Calendar: day numbers relative to 1970-01-01 (Howard Hinnant, "chrono-Compatible Low-Level Date
// Algorithms", days_from_civil / civil_from_days), so no Date object or time zone is involved.

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function formatDate([y, m, d]: [number, number, number]): string {
  return `${String(y).padStart(4, "0")}-${m < 10 ? "0" : ""}${m}-${d < 10 ? "0" : ""}${d}`;
}

/** Completed years between two civil dates (the usual "age on that day"). */
export function completedYears(birth: [number, number, number], on: [number, number, number]): number {
  const beforeBirthday = on[1] < birth[1] || (on[1] === birth[1] && on[2] < birth[2]);
  return on[0] - birth[0] - (beforeBirthday ? 1 : 0);
}

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

// ---------------------------------------------------------------------------------------------
// Distributions (figures are rough shapes of a US general hospital's inpatients, not estimates)

// Winter respiratory season raises admissions; weights per month, Jan..Dec.
const admissionMonth = new WeightedChoice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [112, 106, 102, 98, 96, 93, 92, 94, 96, 100, 103, 108]);

// Age at admission by 5-year band (0-4, 5-9, ..., 100-104): newborn/infant peak, then rising to 65-79.
// About 3.5% are 90 or older, which HIPAA Safe Harbor requires to be aggregated.
const ageBand = new WeightedChoice(
  Array.from({length: 21}, (_, i) => i * 5),
  [40, 12, 12, 20, 30, 40, 45, 40, 40, 45, 55, 70, 80, 90, 95, 85, 70, 50, 26, 9, 2]
);

const sexChoice = weighted<"F" | "M">([
  ["F", 55],
  ["M", 45]
]);

const raceChoice = weighted<string | null>([
  ["White", 610],
  ["Black or African American", 170],
  ["Asian", 60],
  ["American Indian or Alaska Native", 10],
  ["Native Hawaiian or Other Pacific Islander", 3],
  ["Other", 117],
  [null, 30]
]);

const ethnicityChoice = weighted<string | null>([
  ["Hispanic or Latino", 170],
  ["Not Hispanic or Latino", 800],
  [null, 30]
]);

const zip3Choice = new WeightedChoice(
  ZIP3_AREAS.map((a) => a),
  ZIP3_AREAS.map((a) => a[1])
);
// Within a ZIP3 the suffixes 01..n (n = its number of ZCTAs) get Zipf-like weights, so a few ZIPs are
// common and many are rare, as in a real catchment area.
const zipSuffixChoice = new Map(
  ZIP3_AREAS.map(([zip3, , zctas]) => {
    const suffixes = Array.from({length: Math.min(zctas, 99)}, (_, k) => String(k + 1).padStart(2, "0"));
    return [zip3, new WeightedChoice(suffixes, suffixes.map((_, k) => Math.floor(1000 / (k + 2))))] as const;
  })
);

const AREA_CODES: Record<string, string[]> = {
  AL: ["205", "334"], AZ: ["480", "520", "602"], CA: ["213", "415", "619", "714", "916"], CO: ["303", "720"],
  FL: ["305", "407", "813"], GA: ["404", "678", "770"], IL: ["312", "630", "773"], MA: ["617", "781"],
  MD: ["301", "410"], MI: ["248", "313"], MN: ["612", "651"], NC: ["704", "919"], NE: ["308", "402"],
  NH: ["603"], NJ: ["201", "732", "973"], NM: ["505", "575"], NV: ["702", "775"], NY: ["212", "516", "718"],
  OH: ["216", "440"], PA: ["215", "412", "610"], PR: ["787", "939"], TN: ["615", "901"], TX: ["210", "214", "512", "713"],
  UT: ["385", "801"], VT: ["802"], WA: ["206", "253"], WY: ["307"]
};

const firstNameFemale = weighted(FIRST_NAMES_FEMALE);
const firstNameMale = weighted(FIRST_NAMES_MALE);
const surname = weighted(SURNAMES);
const emailDomain = weighted([
  ["example.com", 6],
  ["example.org", 2],
  ["example.net", 2]
]);

interface Diagnosis {
  code: string;
  /** Relative frequency (tenths) among children (<18), adults (18-64) and the elderly (65+). */
  weights: readonly [number, number, number];
  /** Added to the log of the length of stay. */
  los: number;
  /** Added to the log-odds of 30-day readmission. */
  readmission: number;
  chronic?: boolean;
  diabetes?: boolean;
  hypertension?: boolean;
  obesity?: boolean;
  /** Only for women aged 15-49. */
  pregnancy?: boolean;
}

// Billable ICD-10-CM (FY2021) codes; test/unit/sample-data.test.ts checks each one against the CMS order file.
const DIAGNOSES: readonly Diagnosis[] = [
  {code: "J45.909", weights: [120, 30, 10], los: -0.3, readmission: 0, chronic: true},
  {code: "J18.9", weights: [100, 50, 80], los: 0.2, readmission: 0.2},
  {code: "K35.80", weights: [80, 30, 5], los: -0.2, readmission: -0.5},
  {code: "R10.9", weights: [60, 40, 20], los: -0.5, readmission: -0.4},
  {code: "E86.0", weights: [80, 20, 30], los: -0.4, readmission: 0},
  {code: "F32.9", weights: [50, 50, 10], los: 0.6, readmission: 0.1, chronic: true},
  {code: "F31.9", weights: [20, 30, 5], los: 0.7, readmission: 0.3, chronic: true},
  {code: "F20.9", weights: [5, 20, 5], los: 0.9, readmission: 0.5, chronic: true},
  {code: "F10.239", weights: [0, 30, 10], los: 0.1, readmission: 0.5, chronic: true},
  {code: "L03.115", weights: [20, 30, 30], los: 0, readmission: -0.1},
  {code: "N39.0", weights: [30, 30, 60], los: -0.1, readmission: 0.1},
  {code: "A41.9", weights: [20, 40, 80], los: 0.5, readmission: 0.4},
  {code: "U07.1", weights: [10, 40, 50], los: 0.4, readmission: 0.2},
  {code: "I10", weights: [0, 40, 40], los: -0.3, readmission: -0.2, chronic: true, hypertension: true},
  {code: "E11.9", weights: [3, 40, 40], los: -0.2, readmission: 0, chronic: true, diabetes: true},
  {code: "E11.65", weights: [2, 20, 20], los: 0, readmission: 0.3, chronic: true, diabetes: true},
  {code: "E11.22", weights: [0, 10, 25], los: 0.1, readmission: 0.5, chronic: true, diabetes: true},
  {code: "E66.9", weights: [5, 20, 5], los: -0.2, readmission: -0.1, chronic: true, obesity: true},
  {code: "I50.9", weights: [0, 15, 80], los: 0.3, readmission: 0.9, chronic: true, hypertension: true},
  {code: "I13.0", weights: [0, 5, 25], los: 0.3, readmission: 1.0, chronic: true, hypertension: true},
  {code: "J44.1", weights: [0, 15, 60], los: 0.2, readmission: 0.8, chronic: true},
  {code: "I21.4", weights: [0, 15, 40], los: 0.2, readmission: 0.4},
  {code: "I48.91", weights: [0, 10, 50], los: 0, readmission: 0.3, chronic: true},
  {code: "I25.10", weights: [0, 10, 30], los: -0.1, readmission: 0.1, chronic: true},
  {code: "I63.9", weights: [0, 10, 40], los: 0.5, readmission: 0.3},
  {code: "I26.99", weights: [0, 10, 15], los: 0.2, readmission: 0.2},
  {code: "N17.9", weights: [3, 15, 40], los: 0.2, readmission: 0.6},
  {code: "N18.4", weights: [0, 5, 15], los: 0.1, readmission: 0.6, chronic: true},
  {code: "D64.9", weights: [10, 15, 25], los: -0.2, readmission: 0.2},
  {code: "K92.2", weights: [0, 10, 30], los: 0.1, readmission: 0.4},
  {code: "K57.30", weights: [0, 10, 20], los: -0.1, readmission: 0},
  {code: "K80.20", weights: [2, 25, 15], los: -0.3, readmission: -0.3},
  {code: "K21.9", weights: [10, 20, 20], los: -0.4, readmission: -0.3, chronic: true},
  {code: "R07.9", weights: [5, 40, 30], los: -0.7, readmission: -0.3},
  {code: "R55", weights: [5, 15, 30], los: -0.4, readmission: 0},
  {code: "S72.001A", weights: [0, 3, 30], los: 0.5, readmission: 0.3},
  {code: "M17.11", weights: [0, 15, 25], los: -0.3, readmission: -0.5, chronic: true},
  {code: "C34.90", weights: [0, 5, 15], los: 0.3, readmission: 0.7, chronic: true},
  {code: "Z51.11", weights: [5, 10, 10], los: -0.6, readmission: 0.8, chronic: true},
  {code: "O80", weights: [0, 100, 0], los: -0.5, readmission: -1.2, pregnancy: true},
  {code: "G47.33", weights: [5, 10, 10], los: -0.5, readmission: -0.1, chronic: true, obesity: true},
  {code: "E03.9", weights: [5, 10, 15], los: -0.3, readmission: 0, chronic: true}
];

/** ICD-10-CM codes the generator can emit (with the dot), for tests and documentation. */
export const sampleDiagnosisCodes: readonly string[] = DIAGNOSES.map((d) => d.code);

function diagnosisTable(group: 0 | 1 | 2, pregnancyPossible: boolean) {
  const eligible = DIAGNOSES.filter((d) => !d.pregnancy || pregnancyPossible);
  return new WeightedChoice(eligible, eligible.map((d) => d.weights[group]));
}
const diagnosisChild = diagnosisTable(0, false);
const diagnosisAdult = diagnosisTable(1, false);
const diagnosisAdultPregnancy = diagnosisTable(1, true);
const diagnosisElderly = diagnosisTable(2, false);

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function digits(random: () => number, count: number): string {
  let s = "";
  for (let i = 0; i < count; ++i) s += Math.floor(random() * 10);
  return s;
}

/**
 * A keyed bijection on [0, MAX_PATIENT_ROWS): a 4-round balanced Feistel network on 28 bits with cycle
 * walking (Black & Rogaway, "Ciphers with Arbitrary Finite Domains", 2002), so MRNs are unique and unordered.
 */
function permuteRowNumber(i: number, key: number): number {
  let x = i;
  do {
    let left = x >>> 14;
    let right = x & 0x3fff;
    for (let round = 0; round < 4; ++round) {
      let h = Math.imul(right ^ key ^ Math.imul(round + 1, 0x9e3779b1), 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      const mixed = (left ^ h) & 0x3fff;
      left = right;
      right = mixed;
    }
    x = left * 16384 + right;
  } while (x >= MAX_PATIENT_ROWS);
  return x;
}

function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

// ---------------------------------------------------------------------------------------------
// The generator

/**
 * Stream `rows` synthetic patient admissions. Row i depends only on the seed and the rows before it,
 * so a smaller table is always a prefix of a larger one with the same seed.
 */
export function* generatePatients({rows, seed = 1}: GeneratePatientsOptions): Generator<PatientRecord> {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`rows must be a non-negative integer, got ${rows}`);
  if (rows > MAX_PATIENT_ROWS) throw new Error(`rows must be at most ${MAX_PATIENT_ROWS.toLocaleString("en-US")} (MRNs are 8 digits), got ${rows}`);
  const random = createRandom(seed);
  const mrnKey = Math.floor(random() * 4294967296);

  for (let i = 0; i < rows; ++i) {
    const mrn = 10_000_000 + permuteRowNumber(i, mrnKey);

    const year = randomInt(random, ADMISSION_FIRST_YEAR, ADMISSION_LAST_YEAR);
    const month = admissionMonth.draw(random);
    const admission: [number, number, number] = [year, month, randomInt(random, 1, daysInMonth(year, month))];

    const sex = sexChoice.draw(random);
    // Birth date: the admission date minus a whole-year age from the band, minus up to a year of days;
    // age is then recomputed from the two dates, so the three columns always agree.
    const ageYears = ageBand.draw(random) + randomInt(random, 0, 4);
    const birthDay = daysFromCivil(admission[0] - ageYears, admission[1], Math.min(admission[2], 28)) - randomInt(random, 0, 364);
    const birth = civilFromDays(birthDay);
    const age = Math.max(0, completedYears(birth, admission));

    const [zip3, , , state] = zip3Choice.draw(random);
    const zip = zip3 + zipSuffixChoice.get(zip3)!.draw(random);
    const race = raceChoice.draw(random);
    const ethnicity = state === "PR" ? (random() < 0.97 ? "Hispanic or Latino" : "Not Hispanic or Latino") : ethnicityChoice.draw(random);

    const table = age < 18 ? diagnosisChild : age >= 65 ? diagnosisElderly : sex === "F" && age <= 49 ? diagnosisAdultPregnancy : diagnosisAdult;
    const dx = table.draw(random);

    const first = (sex === "F" ? firstNameFemale : firstNameMale).draw(random);
    const last = surname.draw(random);
    const middle = random() < 0.15 ? ` ${String.fromCharCode(65 + Math.floor(random() * 26))}.` : "";
    const patientName = `${first}${middle} ${last}`;
    const ssnArea = (() => {
      const a = randomInt(random, 1, 898);
      return a >= 666 ? a + 1 : a;
    })();
    const ssn = random() < 0.04 ? null : `${String(ssnArea).padStart(3, "0")}-${String(randomInt(random, 1, 99)).padStart(2, "0")}-${String(randomInt(random, 1, 9999)).padStart(4, "0")}`;
    const codes = AREA_CODES[state] ?? ["555"];
    // 555-0100..0199 are the numbers reserved for fiction, so no real line is ever printed.
    const phone = random() < 0.02 ? null : `(${codes[Math.floor(random() * codes.length)]}) 555-01${digits(random, 2)}`;
    const email = random() < 0.12 ? null : `${first.toLowerCase()}.${last.toLowerCase()}${random() < 0.5 ? randomInt(random, 1, 99) : ""}@${emailDomain.draw(random)}`;

    const diabetic = dx.diabetes === true;
    const systolic =
      random() < 0.01
        ? null
        : Math.round(clamp((age < 18 ? 96 + 1.1 * age : 112 + 0.45 * Math.max(0, age - 30)) + (dx.hypertension ? 14 : 0) + (diabetic ? 5 : 0) + 14 * normal(random), 70, 230));
    const bmiMedian = age < 18 ? 15.5 + 0.5 * Math.min(age, 17) : dx.obesity ? 36 : diabetic ? 32 : 27.5;
    const bmi = random() < 0.06 ? null : round1(clamp(bmiMedian * exactExp(0.16 * normal(random)), 12, 75));
    const hba1cMeasured = random() < (diabetic ? 0.95 : 0.45);
    const hba1c = !hba1cMeasured
      ? null
      : diabetic
        ? round1(clamp(7.6 * exactExp(0.18 * normal(random)), 5.5, 15))
        : round1(clamp(5.4 + 0.35 * normal(random) + 0.015 * ((bmi ?? 27.5) - 27.5), 4, 6.4));
    const lengthOfStay = Math.round(clamp(exactExp(1.05 + dx.los + 0.006 * (age - 50) + 0.55 * normal(random)), 1, 120));
    const priorContinue = clamp(0.18 + 0.004 * (age - 40) + (dx.chronic ? 0.15 : 0), 0.05, 0.8);
    let prior = 0;
    while (prior < 30 && random() < priorContinue) ++prior;

    const logit =
      -2.6 +
      dx.readmission +
      0.35 * Math.min(prior, 6) +
      0.06 * Math.min(lengthOfStay, 20) +
      0.012 * (age - 60) +
      (hba1c != null && hba1c > 9 ? 0.5 : 0) +
      (systolic != null && systolic > 170 ? 0.3 : 0);
    const readmitted = random() < 1 / (1 + exactExp(-logit)) ? 1 : 0;

    yield {
      mrn,
      patient_name: patientName,
      ssn,
      phone,
      email,
      birth_date: formatDate(birth),
      sex,
      race,
      ethnicity,
      zip,
      admission_date: formatDate(admission),
      age,
      diagnosis_code: dx.code,
      systolic_bp: systolic,
      bmi,
      hba1c,
      length_of_stay: lengthOfStay,
      num_prior_admissions: prior,
      readmitted_30d: readmitted
    };
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

export interface CsvWriteOptions {
  delimiter?: string;
  /** "\n" (default) or "\r\n" (RFC 4180's own choice). */
  lineEnding?: "\n" | "\r\n";
  /** Rows per yielded chunk (default 1024); larger chunks mean fewer writes. */
  chunkRows?: number;
}

/** One CSV field per RFC 4180: quoted only when it holds the delimiter, a quote or a line break. */
export function formatCsvField(value: PatientValue | boolean | undefined, delimiter = ","): string {
  if (value == null) return "";
  const s = String(value);
  if (s.includes(delimiter) || s.includes('"') || s.includes("\n") || s.includes("\r")) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** One CSV record (no line ending). */
export function formatCsvRecord(values: ReadonlyArray<PatientValue | boolean | undefined>, delimiter = ","): string {
  let line = "";
  for (let i = 0; i < values.length; ++i) line += (i ? delimiter : "") + formatCsvField(values[i], delimiter);
  return line;
}

/**
 * Stream records as CSV text: the header line first, then chunks of whole lines, each ending with the
 * line ending. Missing values are empty fields. Columns follow `columns` (default `patientColumns`).
 */
export function* formatPatientsCsv(records: Iterable<PatientRecord>, options: CsvWriteOptions & {columns?: readonly string[]} = {}): Generator<string> {
  const delimiter = options.delimiter ?? ",";
  const eol = options.lineEnding ?? "\n";
  const chunkRows = options.chunkRows ?? 1024;
  const columns = options.columns ?? patientColumns.map((c) => c.name);
  yield formatCsvRecord(columns, delimiter) + eol;
  let chunk: string[] = [];
  for (const record of records) {
    chunk.push(formatCsvRecord(columns.map((c) => record[c]), delimiter));
    if (chunk.length >= chunkRows) {
      yield chunk.join(eol) + eol;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join(eol) + eol;
}

/** The whole generated table as CSV chunks: `formatPatientsCsv(generatePatients(options))`. */
export function generatePatientsCsv(options: GeneratePatientsOptions & CsvWriteOptions): Generator<string> {
  return formatPatientsCsv(generatePatients(options), options);
}
