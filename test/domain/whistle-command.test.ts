import { describe, expect, it } from "vitest";
import { DEFAULT_LIMIT_MINUTES, MAX_LIMIT_MINUTES, type WhistleType } from "../../src/domain/whistle";
import {
  describeProblem,
  FORCE_SET_TOKEN,
  parseWhistle,
  typeFromWord,
  type WhistleParse,
  type WhistleProblem,
  type WhistleRequest,
} from "../../src/domain/whistle-command";

function request(args: string, mentionedNames?: string[]): WhistleRequest {
  const parsed = parseWhistle(args, mentionedNames ? { mentionedNames } : undefined);
  if (!parsed.ok) throw new Error(`expected ok for ${args}, got ${JSON.stringify(parsed.problem)}`);
  return parsed.request;
}

function failure(args: string, mentionedNames?: string[]): Extract<WhistleParse, { ok: false }> {
  const parsed = parseWhistle(args, mentionedNames ? { mentionedNames } : undefined);
  if (parsed.ok) throw new Error(`expected a problem for ${args}, got ${JSON.stringify(parsed.request)}`);
  return parsed;
}

describe("typeFromWord", () => {
  it.each<[string, WhistleType | undefined]>([
    ["执法", "enforcement"],
    ["执法哨", "enforcement"],
    ["综合执法", "enforcement"],
    ["综合执法哨", "enforcement"],
    ["enforcement", "enforcement"],
    ["ENFORCEMENT", "enforcement"],
    ["Enforcement", "enforcement"],
    ["ｅｎｆｏｒｃｅｍｅｎｔ", "enforcement"],
    ["应急", "emergency"],
    ["应急哨", "emergency"],
    ["应急处置", "emergency"],
    ["应急处置哨", "emergency"],
    ["emergency", "emergency"],
    ["EMERGENCY", "emergency"],
    ["ＥＭＥＲＧＥＮＣＹ", "emergency"],
    ["重点", "key"],
    ["重点哨", "key"],
    ["重点工作", "key"],
    ["重点工作哨", "key"],
    ["key", "key"],
    ["KEY", "key"],
    ["ＫＥＹ", "key"],
    ["Ｋｅｙ", "key"],
    [" 执法 ", "enforcement"],
    ["巡查", undefined],
    ["城管", undefined],
    ["", undefined],
    ["执法执法", undefined],
    ["keys", undefined],
  ])("%j → %s", (word, type) => {
    expect(typeFromWord(word)).toBe(type);
  });
});

describe("parseWhistle: the issue's example", () => {
  it("reads /吹哨 执法 城管执法队,公安 … exactly", () => {
    expect(parseWhistle("执法 城管执法队,公安 东直门内大街12号门前占道经营，多次劝离无效")).toEqual({
      ok: true,
      request: {
        type: "enforcement",
        departments: ["城管执法队", "公安"],
        usesForceSet: false,
        matter: "东直门内大街12号门前占道经营，多次劝离无效",
        place: null,
        limitMinutes: null,
      },
    });
  });
});

describe("parseWhistle: type words", () => {
  it.each<[string, WhistleType]>([
    ["执法", "enforcement"],
    ["综合执法", "enforcement"],
    ["综合执法哨", "enforcement"],
    ["enforcement", "enforcement"],
    ["ENFORCEMENT", "enforcement"],
    ["ｅｎｆｏｒｃｅｍｅｎｔ", "enforcement"],
    ["应急", "emergency"],
    ["应急处置", "emergency"],
    ["应急处置哨", "emergency"],
    ["emergency", "emergency"],
    ["Emergency", "emergency"],
    ["ＥＭＥＲＧＥＮＣＹ", "emergency"],
    ["重点", "key"],
    ["重点工作", "key"],
    ["重点工作哨", "key"],
    ["key", "key"],
    ["KEY", "key"],
    ["ＫＥＹ", "key"],
  ])("%s as the first token → %s", (word, type) => {
    expect(request(`${word} 城管 占道经营`)).toMatchObject({
      type,
      departments: ["城管"],
      matter: "占道经营",
    });
  });

  it("reads an English line", () => {
    expect(request("emergency fire,police gas leak at No. 5")).toMatchObject({
      type: "emergency",
      departments: ["fire", "police"],
      matter: "gas leak at No. 5",
    });
  });
});

describe("parseWhistle: the department list", () => {
  it.each<[string, string[], boolean]>([
    ["城管,公安", ["城管", "公安"], false],
    ["城管，公安", ["城管", "公安"], false],
    ["城管、公安", ["城管", "公安"], false],
    ["城管;公安", ["城管", "公安"], false],
    ["城管；公安", ["城管", "公安"], false],
    ["城管,公安，消防、交通;市场监管；房管", ["城管", "公安", "消防", "交通", "市场监管", "房管"], false],
    ["城管", ["城管"], false],
    ["城管,,公安", ["城管", "公安"], false],
    // Spaces next to a separator or plus sign are forgiven.
    ["城管, 公安", ["城管", "公安"], false],
    ["城管 ,公安", ["城管", "公安"], false],
    ["城管 、 公安", ["城管", "公安"], false],
    // The force set, alone and combined, kept in position and not expanded.
    ["1+4", ["1+4"], true],
    ["1＋4", ["1+4"], true],
    ["１＋４", ["1+4"], true],
    ["一加四", ["1+4"], true],
    ["1加4", ["1+4"], true],
    ["1 + 4", ["1+4"], true],
    ["1+4,房管", ["1+4", "房管"], true],
    ["房管,1+4", ["房管", "1+4"], true],
    ["房管、一加四，园林", ["房管", "1+4", "园林"], true],
    ["1+4, 房管", ["1+4", "房管"], true],
    // Duplicates dropped (case, width), first spelling kept.
    ["城管,公安,城管", ["城管", "公安"], false],
    ["Fire,FIRE,ｆｉｒｅ", ["Fire"], false],
    ["1+4,一加四,1＋4", ["1+4"], true],
    // Cleaned with cleanName (NFKC).
    ["ＦＩＲＥ", ["FIRE"], false],
  ])("%j → %j (force set: %s)", (list, departments, usesForceSet) => {
    const r = request(`执法 ${list} 占道经营`);
    expect(r.departments).toEqual(departments);
    expect(r.usesForceSet).toBe(usesForceSet);
    expect(r.matter).toBe("占道经营");
    if (usesForceSet) expect(r.departments).toContain(FORCE_SET_TOKEN);
  });

  it("a separator at a space joins the next word to the list", () => {
    expect(failure("执法 城管, 占道经营")).toMatchObject({
      problem: { kind: "no_matter" },
      partial: { departments: ["城管", "占道经营"] },
    });
    expect(failure("执法 城管,")).toMatchObject({
      problem: { kind: "no_matter" },
      partial: { departments: ["城管"] },
    });
  });

  it("takes only the second token: later tokens are the matter", () => {
    expect(request("执法 城管 公安 占道")).toMatchObject({ departments: ["城管"], matter: "公安 占道" });
  });
});

describe("parseWhistle: the report-in limit", () => {
  it.each<[string, string, number]>([
    // 限时<N>分钟 at the start, middle and end.
    ["限时20分钟 占道经营，多次劝离", "占道经营，多次劝离", 20],
    ["占道经营，限时20分钟，多次劝离", "占道经营，多次劝离", 20],
    ["占道经营 限时20分钟 多次劝离", "占道经营 多次劝离", 20],
    ["占道经营限时20分钟多次劝离", "占道经营多次劝离", 20],
    ["占道经营，多次劝离 限时20分钟", "占道经营，多次劝离", 20],
    ["占道经营，多次劝离，限时20分钟", "占道经营，多次劝离", 20],
    ["占道经营，多次劝离。限时20分钟", "占道经营，多次劝离。", 20],
    ["占道经营；限时20分钟，多次劝离", "占道经营；多次劝离", 20],
    // Variants.
    ["占道经营 限时 20 分钟", "占道经营", 20],
    ["占道经营 限时20分", "占道经营", 20],
    ["占道经营 限时15", "占道经营", 15],
    ["占道经营 限时２０分钟", "占道经营", 20],
    ["占道经营 限时２０ 分钟", "占道经营", 20],
    ["占道经营 限时二十分钟", "占道经营", 20],
    ["占道经营 限时十五分钟", "占道经营", 15],
    ["占道经营 限时一百二十分钟", "占道经营", 120],
    ["占道经营 限时2小时", "占道经营", 120],
    ["占道经营 限时两小时", "占道经营", 120],
    ["占道经营 限时半小时", "占道经营", 30],
    ["占道经营 限时1.5小时", "占道经营", 90],
    ["占道经营 限时24小时", "占道经营", 1440],
    [`占道经营 限时${MAX_LIMIT_MINUTES}分钟`, "占道经营", MAX_LIMIT_MINUTES],
    ["占道经营 限时1分钟", "占道经营", 1],
    ["占道经营 限时20分钟内报到", "占道经营", 20],
    // <N>分钟内报到 at the start, middle and end.
    ["20分钟内报到 占道经营", "占道经营", 20],
    ["占道经营，20分钟内报到，多次劝离", "占道经营，多次劝离", 20],
    ["占道经营，20分钟内报到", "占道经营", 20],
    ["占道经营，请于20分钟内报到。", "占道经营。", 20],
    ["占道经营 ２０分钟内报到", "占道经营", 20],
    ["占道经营 二十分钟内报到", "占道经营", 20],
    ["占道经营 1小时内报到", "占道经营", 60],
    // The same limit twice is fine.
    ["限时20分钟 占道经营，20分钟内报到", "占道经营", 20],
  ])("%j → matter %j, %i min", (matter, rest, minutes) => {
    const r = request(`执法 城管 ${matter}`);
    expect(r.matter).toBe(rest);
    expect(r.limitMinutes).toBe(minutes);
  });

  it("is null (the default) without a limit phrase", () => {
    expect(request("执法 城管 占道经营").limitMinutes).toBeNull();
  });

  it.each<[string, string]>([
    ["占道经营 限时abc分钟", "占道经营 限时abc分钟"],
    ["占道经营 限时3天", "占道经营 限时3天"],
    ["20分钟后再处理", "20分钟后再处理"],
    ["12号楼30分钟前发现", "12号楼30分钟前发现"],
    ["限时", "限时"],
  ])("%j is not a limit phrase: it stays in the matter", (matter, rest) => {
    const r = request(`执法 城管 ${matter}`);
    expect(r.matter).toBe(rest);
    expect(r.limitMinutes).toBeNull();
  });

  it.each<[string, string]>([
    ["占道经营 限时0分钟", "限时0分钟"],
    ["占道经营 限时零分钟", "限时零分钟"],
    [`占道经营 限时${MAX_LIMIT_MINUTES + 1}分钟`, `限时${MAX_LIMIT_MINUTES + 1}分钟`],
    ["占道经营 限时2000分钟", "限时2000分钟"],
    ["占道经营 限时25小时", "限时25小时"],
    ["占道经营 限时1.5分钟", "限时1.5分钟"],
    ["占道经营 限时-5分钟", "限时-5分钟"],
    ["占道经营 0分钟内报到", "0分钟内报到"],
    ["限时2000分钟 占道经营", "限时2000分钟"],
    ["占道经营 限时20分钟 限时30分钟", "限时20分钟、限时30分钟"],
  ])("%j → bad_limit %j", (matter, typed) => {
    const f = failure(`执法 城管 ${matter}`);
    expect(f.problem).toEqual({ kind: "bad_limit", typed });
    expect(f.partial).toEqual({
      type: "enforcement",
      departments: ["城管"],
      usesForceSet: false,
      matter: "占道经营",
      place: null,
    });
  });
});

describe("parseWhistle: the place", () => {
  it.each<[string, string, string]>([
    ["地点：东直门内大街12号，占道经营", "占道经营", "东直门内大街12号"],
    ["地点:东直门内大街12号，占道经营", "占道经营", "东直门内大街12号"],
    ["地点: 东直门内大街12号, 占道经营", "占道经营", "东直门内大街12号"],
    ["地址：东直门内大街12号。占道经营", "占道经营", "东直门内大街12号"],
    ["占道经营，地点：东直门内大街12号，多次劝离", "占道经营，多次劝离", "东直门内大街12号"],
    ["占道经营，地点：东直门内大街12号；多次劝离", "占道经营；多次劝离", "东直门内大街12号"],
    ["占道经营，地点：东直门内大街12号", "占道经营", "东直门内大街12号"],
    ["占道经营 地点：东直门内大街 12 号", "占道经营", "东直门内大街 12 号"],
    ["占道经营 地点：东直门内大街12号 限时20分钟", "占道经营", "东直门内大街12号"],
    ["@东直门内大街12号 占道经营", "占道经营", "东直门内大街12号"],
    ["@东直门内大街12号，占道经营", "占道经营", "东直门内大街12号"],
    ["占道经营 @东直门内大街12号 多次劝离", "占道经营 多次劝离", "东直门内大街12号"],
    ["占道经营，@东直门内大街12号", "占道经营", "东直门内大街12号"],
    ["占道经营@东直门内大街12号", "占道经营@东直门内大街12号", ""],
    // The first place phrase wins; a later one stays in the matter.
    ["占道经营，地点：东直门，@西直门", "占道经营，@西直门", "东直门"],
    ["地点：东直门 占道经营，@西直门", "@西直门", "东直门 占道经营"],
    ["@东直门 占道经营，地点：西直门", "占道经营，地点：西直门", "东直门"],
  ])("%j → matter %j, place %j", (matter, rest, place) => {
    const r = request(`执法 城管 ${matter}`);
    expect(r.matter).toBe(rest);
    expect(r.place).toBe(place === "" ? null : place);
  });

  it.each<[string, string[], string, string | null]>([
    ["@张三 在现场，请联系", ["张三"], "@张三 在现场，请联系", null],
    ["请联系@张三，占道经营", ["张三"], "请联系@张三，占道经营", null],
    ["@张三 @东直门内大街12号 占道经营", ["张三"], "@张三 占道经营", "东直门内大街12号"],
    ["@张三丰 在场", ["张三", "张三丰"], "@张三丰 在场", null],
    ["@John Smith 在场 @东直门", ["John Smith"], "@John Smith 在场", "东直门"],
    ["@所有人 占道经营", [], "@所有人 占道经营", null],
    ["@_user_3 占道经营", [], "@_user_3 占道经营", null],
    ["联系 zhang@example.com 占道经营", [], "联系 zhang@example.com 占道经营", null],
    ["占道经营 @", [], "占道经营 @", null],
  ])("%j with mentions %j → matter %j, place %j", (matter, names, rest, place) => {
    const r = request(`执法 城管 ${matter}`, names);
    expect(r.matter).toBe(rest);
    expect(r.place).toBe(place);
  });

  it("without mentionedNames, @张三 is a place", () => {
    expect(request("执法 城管 @张三 占道")).toMatchObject({ place: "张三", matter: "占道" });
  });

  it("is null without a place phrase", () => {
    expect(request("执法 城管 占道经营").place).toBeNull();
  });

  it("reads 限时, 地点 and 1+4 together", () => {
    expect(
      request("应急 1+4，房管 地点：东直门内大街12号，燃气泄漏，限时十分钟，请带检测仪 @李四", ["李四"]),
    ).toEqual({
      type: "emergency",
      departments: ["1+4", "房管"],
      usesForceSet: true,
      matter: "燃气泄漏，请带检测仪 @李四",
      place: "东直门内大街12号",
      limitMinutes: 10,
    });
  });
});

describe("parseWhistle: the matter", () => {
  it.each<[string, string]>([
    ["占道经营，多次劝离无效，", "占道经营，多次劝离无效"],
    ["占道经营、", "占道经营"],
    ["占道经营。", "占道经营。"],
    ["占道经营！", "占道经营！"],
    ["  占道经营   多次   劝离  ", "占道经营 多次 劝离"],
    ["占道经营\u3000多次劝离", "占道经营 多次劝离"],
    ["。占道经营", "占道经营"],
  ])("%j → %j", (matter, rest) => {
    expect(request(`执法 城管 ${matter}`).matter).toBe(rest);
  });
});

describe("parseWhistle: problems", () => {
  it.each<[string, string, WhistleProblem, Partial<WhistleRequest>]>([
    ["empty", "", { kind: "empty" }, {}],
    ["spaces only", "   ", { kind: "empty" }, {}],
    [
      "unknown type",
      "巡查 城管,公安 占道经营",
      { kind: "unknown_type", typed: "巡查" },
      {
        departments: ["城管", "公安"],
        usesForceSet: false,
        matter: "占道经营",
        place: null,
        limitMinutes: null,
      },
    ],
    [
      "type left out: not guessed",
      "城管,公安 占道经营 限时20分钟",
      { kind: "unknown_type", typed: "城管,公安" },
      { departments: ["占道经营"], usesForceSet: false, place: null, limitMinutes: 20 },
    ],
    ["unknown type alone", "巡查", { kind: "unknown_type", typed: "巡查" }, {}],
    ["missing departments", "执法", { kind: "no_departments" }, { type: "enforcement" }],
    ["missing departments (English)", "KEY", { kind: "no_departments" }, { type: "key" }],
    [
      "list of separators only",
      "执法 ，、",
      { kind: "no_departments" },
      { type: "enforcement", place: null, limitMinutes: null },
    ],
    [
      "missing matter",
      "执法 城管",
      { kind: "no_matter" },
      { type: "enforcement", departments: ["城管"], usesForceSet: false, place: null, limitMinutes: null },
    ],
    [
      "matter only 限时20分钟",
      "执法 城管 限时20分钟",
      { kind: "no_matter" },
      { type: "enforcement", departments: ["城管"], usesForceSet: false, place: null, limitMinutes: 20 },
    ],
    [
      "matter only a place",
      "应急 1+4 地点：东直门内大街12号",
      { kind: "no_matter" },
      {
        type: "emergency",
        departments: ["1+4"],
        usesForceSet: true,
        place: "东直门内大街12号",
        limitMinutes: null,
      },
    ],
    [
      "matter only punctuation",
      "执法 城管 ，。",
      { kind: "no_matter" },
      { type: "enforcement", departments: ["城管"], usesForceSet: false, place: null, limitMinutes: null },
    ],
    [
      "no matter comes before a bad limit",
      "执法 城管 限时0分钟",
      { kind: "no_matter" },
      { type: "enforcement", departments: ["城管"], usesForceSet: false, place: null },
    ],
  ])("%s", (_label, args, problem, partial) => {
    const f = failure(args);
    expect(f.problem).toEqual(problem);
    expect(f.partial).toEqual(partial);
  });
});

describe("describeProblem", () => {
  it.each<[WhistleProblem, string]>([
    [
      { kind: "empty" },
      "请写明哨的类型、要叫的部门和事项，例如：/吹哨 执法 城管执法队,公安 东直门内大街12号门前占道经营。",
    ],
    [{ kind: "unknown_type", typed: "巡查" }, "不认识哨的类型“巡查”：请写 执法、应急 或 重点。"],
    [
      { kind: "unknown_type", typed: "一二三四五六七八九十一二三四五六七八九十一二" },
      "不认识哨的类型“一二三四五六七八九十一二三四五六七八九十…”：请写 执法、应急 或 重点。",
    ],
    [
      { kind: "no_departments" },
      "没有写要叫哪些部门：请在哨的类型后面写部门，用逗号或顿号隔开，例如 城管执法队,公安 或 1+4。",
    ],
    [{ kind: "no_matter" }, "没有写是什么事：请在部门后面写清事项，例如 东直门内大街12号门前占道经营。"],
    [
      { kind: "bad_limit", typed: "限时2000分钟" },
      `时限“限时2000分钟”不对：请写 1 到 ${MAX_LIMIT_MINUTES} 之间的分钟数，例如 限时20分钟；不写则默认 ${DEFAULT_LIMIT_MINUTES} 分钟。`,
    ],
  ])("%j", (problem, sentence) => {
    expect(describeProblem(problem)).toBe(sentence);
  });

  it("gives one sentence for every kind of problem met in parsing", () => {
    for (const args of ["", "巡查 城管 占道", "执法", "执法 城管", "执法 城管 占道 限时0分钟"]) {
      const f = failure(args);
      const text = describeProblem(f.problem);
      expect(text).toMatch(/^[^。]+。$/u);
    }
  });
});
