import { describe, expect, it } from "vitest";
import {
  cleanName,
  editDistance,
  type NameCandidate,
  nameKey,
  resolveName,
  splitNames,
} from "../../src/domain/names";

const units: NameCandidate<number>[] = [
  { name: "城管执法队", keys: ["城管执法队", "城管"], value: 1 },
  { name: "公安", keys: ["公安", "派出所"], value: 2 },
  { name: "公安交通支队", keys: ["公安交通支队", "交警"], value: 3 },
  { name: "市场监管", keys: ["市场监管", "市场所"], value: 4 },
  { name: "Fire Dept", keys: [nameKey("Fire Dept")], value: 5 },
];

describe("names", () => {
  it("fold case, width and spaces", () => {
    expect(nameKey("ＦＩＲＥ　Dept")).toBe("firedept");
    expect(nameKey(" 城管 执法队 ")).toBe("城管执法队");
    expect(cleanName("  城管　 执法队 ")).toBe("城管 执法队");
  });

  it("split lists on every separator people type", () => {
    expect(splitNames("城管,公安、消防，交通 市场监管;房管；园林")).toEqual([
      "城管",
      "公安",
      "消防",
      "交通",
      "市场监管",
      "房管",
      "园林",
    ]);
  });

  it("edit distance", () => {
    expect(editDistance("公安", "公安")).toBe(0);
    expect(editDistance("市场监管", "市场监督")).toBe(1);
  });

  it.each([
    ["城管执法队", 1],
    ["城管", 1],
    ["派出所", 2],
    ["交警", 3],
    ["fire dept", 5],
    ["ＦＩＲＥ　ＤＥＰＴ", 5],
    ["执法队", 1], // unique partial match
    ["市场", 4],
  ])("resolves %s", (q, value) => {
    expect(resolveName(q, units)).toMatchObject({ kind: "found", value });
  });

  it("an exact name wins over partial matches", () => {
    expect(resolveName("公安", units)).toMatchObject({ kind: "found", value: 2, name: "公安" });
  });

  it("several partial matches are ambiguous and listed", () => {
    expect(resolveName("安", units)).toEqual({
      kind: "ambiguous",
      query: "安",
      matches: ["公安", "公安交通支队"],
    });
  });

  it("an unknown name lists the closest", () => {
    expect(resolveName("市场监督", units)).toEqual({
      kind: "unknown",
      query: "市场监督",
      closest: ["市场监管"],
    });
    expect(resolveName("气象局", units)).toMatchObject({ kind: "unknown" });
  });
});
