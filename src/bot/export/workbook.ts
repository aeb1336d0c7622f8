import ExcelJS from "exceljs";
import type { exportRows } from "../../db/queries/export";
import { assessmentScore, type DispatchFact, groupMetrics, percent } from "../../domain/metrics";
import { RATING_LABEL } from "../../domain/rating";
import { dayClock } from "../../domain/time";
import { TYPE_LABEL } from "../../domain/whistle";

/**
 * The /导出 workbook (.xlsx): 哨单 (whistles), 派单 (dispatches, with report-in times and lateness),
 * 评价 (ratings) and 考核 (the period's scores per department). Times in the display zone.
 */
type Rows = Awaited<ReturnType<typeof exportRows>>;

const STATUS: Record<string, string> = { open: "进行中", resolved: "已办结", cancelled: "已撤销" };
const STATE: Record<string, string> = { pending: "待报到", reported: "已报到", on_site: "已到场" };

export async function buildWorkbook(rows: Rows, tz: string, periodLabel: string): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "吹哨报到";
  const t = (d: Date | null) => (d ? dayClock(d, tz) : "");

  const w = wb.addWorksheet("哨单");
  w.columns = [
    { header: "编号", key: "code", width: 14 },
    { header: "类型", key: "type", width: 12 },
    { header: "街乡", key: "street", width: 14 },
    { header: "事项", key: "matter", width: 40 },
    { header: "地点", key: "place", width: 20 },
    { header: "状态", key: "status", width: 8 },
    { header: "吹哨时间", key: "at", width: 16 },
    { header: "限时（分钟）", key: "limit", width: 12 },
    { header: "办结时间", key: "resolvedAt", width: 16 },
    { header: "办结结果 / 撤销原因", key: "result", width: 30 },
  ];
  for (const { w: x, street } of rows.whistles) {
    w.addRow({
      code: x.code,
      type: TYPE_LABEL[x.type],
      street,
      matter: x.matter,
      place: x.place ?? "",
      status: STATUS[x.status],
      at: t(x.createdAt),
      limit: x.limitMinutes,
      resolvedAt: t(x.resolvedAt ?? x.cancelledAt),
      result: x.resolution ?? x.cancelReason ?? "",
    });
  }

  const d = wb.addWorksheet("派单");
  d.columns = [
    { header: "编号", key: "code", width: 14 },
    { header: "部门", key: "department", width: 14 },
    { header: "状态", key: "state", width: 8 },
    { header: "截止", key: "deadline", width: 16 },
    { header: "报到时间", key: "reportedAt", width: 16 },
    { header: "报到人", key: "reportedBy", width: 36 },
    { header: "迟到（分钟）", key: "late", width: 12 },
    { header: "到场时间", key: "onSiteAt", width: 16 },
    { header: "超时上报次数", key: "escalations", width: 12 },
  ];
  for (const { d: x, code, department } of rows.dispatches) {
    d.addRow({
      code,
      department,
      state: STATE[x.state],
      deadline: t(x.deadlineAt),
      reportedAt: t(x.reportedAt),
      reportedBy: x.reportedBy ?? "",
      late: x.lateMinutes ?? 0,
      onSiteAt: t(x.onSiteAt),
      escalations: x.escalationCount,
    });
  }

  const r = wb.addWorksheet("评价");
  r.columns = [
    { header: "编号", key: "code", width: 14 },
    { header: "部门", key: "department", width: 14 },
    { header: "评价", key: "level", width: 10 },
    { header: "意见 / 否决理由", key: "note", width: 30 },
    { header: "评价时间", key: "at", width: 16 },
  ];
  for (const { code, department, rating } of rows.dispatches) {
    if (!rating) continue;
    r.addRow({
      code,
      department,
      level: rating.veto ? RATING_LABEL.veto : RATING_LABEL[rating.level],
      note: rating.veto ? (rating.vetoReason ?? "") : (rating.comment ?? ""),
      at: t(rating.ratedAt),
    });
  }

  const facts: DispatchFact[] = rows.dispatches.flatMap(({ d: x, rating }) => {
    const wh = rows.whistles.find((y) => y.w.id === x.whistleId)?.w;
    if (!wh) return [];
    return [
      {
        whistleId: wh.id,
        whistleStatus: wh.status,
        whistledAt: wh.createdAt,
        streetId: wh.streetId,
        departmentId: x.departmentId,
        deadlineAt: x.deadlineAt,
        reportedAt: x.reportedAt,
        rating: rating?.level ?? null,
        veto: rating?.veto ?? false,
      },
    ];
  });
  const names = new Map(rows.dispatches.map(({ d: x, department }) => [x.departmentId, department]));
  const s = wb.addWorksheet("考核");
  s.columns = [
    { header: "部门", key: "department", width: 14 },
    { header: "期间", key: "period", width: 14 },
    { header: "召集", key: "summoned", width: 8 },
    { header: "响应率", key: "response", width: 10 },
    { header: "解决率", key: "resolution", width: 10 },
    { header: "满意率", key: "satisfaction", width: 10 },
    { header: "否决", key: "vetoes", width: 8 },
    { header: "考核分", key: "score", width: 10 },
  ];
  for (const [id, m] of groupMetrics(facts, "department")) {
    s.addRow({
      department: names.get(id) ?? `#${id}`,
      period: periodLabel,
      summoned: m.summoned,
      response: percent(m.responseRate),
      resolution: percent(m.resolutionRate),
      satisfaction: percent(m.satisfactionRate),
      vetoes: m.vetoes,
      score: assessmentScore(m) ?? "",
    });
  }
  for (const sheet of wb.worksheets) sheet.getRow(1).font = { bold: true };
  return new Uint8Array(await wb.xlsx.writeBuffer());
}
