/**
 * Privacy models evaluated per equivalence class, as SQL over the generalized frequency table.
 * Definitions and sources: docs/semantics.md, "Privacy models".
 */

/** l-diversity for every sensitive attribute (Machanavajjhala et al. 2007). */
export interface LDiversityModel {
  /** "distinct" (default), "entropy" (natural log; exp(H) >= l) or "recursive" ((c,l): r1 < c * (r_l + ... + r_m)). */
  variant?: "distinct" | "entropy" | "recursive";
  l: number;
  /** Only for "recursive". */
  c?: number;
}

/** t-closeness for every sensitive attribute (Li, Li & Venkatasubramanian 2007). */
export interface TClosenessModel {
  t: number;
  /** "equal" (default): EMD with equal ground distance = half the L1 distance; "ordered": ordered distance. */
  distance?: "equal" | "ordered";
}

/** The privacy model a transformation must satisfy; classes that violate it are candidates for suppression. */
export interface PrivacyModel {
  k?: number;
  lDiversity?: LDiversityModel;
  tCloseness?: TClosenessModel;
}

/** Whether any privacy model is set (without one, nothing is suppressed and `anonymous` is null). */
export function hasPrivacyModel(model: PrivacyModel): boolean {
  return model.k !== undefined || model.lDiversity !== undefined || model.tCloseness !== undefined;
}

export function validatePrivacyModel(model: PrivacyModel): void {
  if (model.k !== undefined && (!Number.isInteger(model.k) || model.k < 1)) throw new Error(`k must be a positive integer, got ${model.k}`);
  const l = model.lDiversity;
  if (l) {
    if (!(l.l >= 1)) throw new Error(`l-diversity: l must be at least 1, got ${l.l}`);
    if (l.variant !== "entropy" && !Number.isInteger(l.l)) throw new Error(`${l.variant ?? "distinct"} l-diversity: l must be an integer, got ${l.l}`);
    if (l.variant === "recursive" && !(typeof l.c === "number" && l.c > 0)) throw new Error("recursive (c,l)-diversity needs c > 0");
    if (l.variant && !["distinct", "entropy", "recursive"].includes(l.variant)) throw new Error(`unknown l-diversity variant ${JSON.stringify(l.variant)}`);
  }
  const t = model.tCloseness;
  if (t) {
    if (!(t.t >= 0 && t.t <= 1)) throw new Error(`t-closeness: t must be between 0 and 1, got ${t.t}`);
    if (t.distance && !["equal", "ordered"].includes(t.distance)) throw new Error(`unknown t-closeness distance ${JSON.stringify(t.distance)}`);
  }
}

/** Floating-point slack for comparisons of entropies and distances with their limits. */
export const MODEL_EPSILON = 1e-12;
