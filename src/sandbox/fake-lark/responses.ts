/** Reply values of the fake's HTTP handlers and the Lark response conventions (§5.5). */

/** One HTTP answer; `html` wins over `body` when set. */
export interface Reply {
  status: number;
  body?: unknown;
  html?: string;
  headers?: Record<string, string>;
}

/** `{code:0,msg,data}` (HTTP 200). */
export function ok(data?: unknown, msg = "success"): Reply {
  return { status: 200, body: data === undefined ? { code: 0, msg } : { code: 0, msg, data } };
}

/** Lark error shape `{code,msg,error:{log_id,…}}` (HTTP 400 by default); the server fills `log_id`. */
export function larkError(code: number, msg: string, extra?: Record<string, unknown>, status = 400): Reply {
  return {
    status,
    body: {
      code,
      msg,
      error: {
        log_id: "",
        troubleshooter: `排查建议查看（Troubleshooting suggestions）：https://open.feishu.cn/search?q=${code}`,
        ...extra,
      },
    },
  };
}

/** 99992402 "field validation failed" with the offending field. */
export function fieldError(field: string, description: string): Reply {
  return larkError(99992402, "field validation failed", {
    field_violations: [{ field, description }],
  });
}

/** Frequently-used business errors. */
export const errors = {
  badParam: (detail: string): Reply =>
    larkError(230001, `Your request contains an invalid request parameter, ext=${detail}`),
  rateLimited: (): Reply => larkError(230020, "This operation triggers the frequency limit."),
  gatewayLimited: (): Reply => ({
    status: 429,
    headers: { "x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "1" },
    body: { code: 99991400, msg: "request trigger frequency limit" },
  }),
  notFound: (method: string, path: string): Reply =>
    larkError(404, `404 page not found: ${method} ${path}`, undefined, 404),
};
