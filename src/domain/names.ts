/**
 * Names of streets and departments as people type them: case-, width- and space-insensitive
 * matching, and the closest candidates when a name is unknown or ambiguous. Pure.
 */

/** The key a name is stored and matched under: NFKC (full-width → half-width), lower case, no spaces. */
export function nameKey(name: string): string {
  return name
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s\u3000]+/g, "");
}

/** A name as it should be stored for display: trimmed, inner runs of spaces collapsed. */
export function cleanName(name: string): string {
  return name
    .normalize("NFKC")
    .replace(/[\s\u3000]+/g, " ")
    .trim();
}

/** Split a list typed as "城管,公安、消防，交通 市场监管" into names (any of , ， 、 ; ； or spaces). */
export function splitNames(text: string): string[] {
  return text
    .split(/[,，、;；\s\u3000]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Levenshtein distance over code points (names are short). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

export interface NameCandidate<T> {
  /** Display name of the unit. */
  name: string;
  /** Every key it answers to: its name and its aliases (already `nameKey`ed). */
  keys: string[];
  value: T;
}

export type Resolution<T> =
  | { kind: "found"; value: T; name: string }
  | { kind: "ambiguous"; query: string; matches: string[] }
  | { kind: "unknown"; query: string; closest: string[] };

/**
 * Resolve a typed name: an exact name or alias wins; otherwise a unique partial match
 * ("城管" → "城管执法队"); several partial matches are ambiguous; none is unknown, with the closest
 * names by edit distance.
 */
export function resolveName<T>(query: string, candidates: readonly NameCandidate<T>[]): Resolution<T> {
  const q = nameKey(query);
  const exact = candidates.filter((c) => c.keys.includes(q));
  if (exact.length === 1) {
    const only = exact[0] as NameCandidate<T>;
    return { kind: "found", value: only.value, name: only.name };
  }
  if (exact.length > 1) return { kind: "ambiguous", query, matches: exact.map((c) => c.name) };
  const partial =
    q.length === 0 ? [] : candidates.filter((c) => c.keys.some((k) => k.includes(q) || q.includes(k)));
  if (partial.length === 1) {
    const only = partial[0] as NameCandidate<T>;
    return { kind: "found", value: only.value, name: only.name };
  }
  if (partial.length > 1) return { kind: "ambiguous", query, matches: partial.map((c) => c.name) };
  const closest = candidates
    .map((c) => ({ name: c.name, d: Math.min(...c.keys.map((k) => editDistance(q, k))) }))
    .filter((c) => c.d <= Math.max(2, Math.ceil(q.length / 2)))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name, "zh"))
    .slice(0, 3)
    .map((c) => c.name);
  return { kind: "unknown", query, closest };
}
