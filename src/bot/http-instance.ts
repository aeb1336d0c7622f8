import type { HttpInstance, HttpRequestOptions } from "@larksuiteoapi/node-sdk";
import { LarkApiError } from "./lark-errors";

/**
 * The SDK's pluggable HTTP layer, implemented over `fetch` (Node ≥ 20 and Workers alike): a hard
 * timeout on every call, and failures as LarkApiError carrying Lark's code, the HTTP status and
 * the rate-limit reset header — which the SDK's default axios instance hides in an AxiosError.
 */
export interface FetchInstanceOptions {
  timeoutMs: number;
  fetch?: typeof fetch;
}

function queryString(opts: HttpRequestOptions<unknown>): string {
  const params = opts.params;
  if (!params || Object.keys(params).length === 0) return "";
  if (typeof opts.paramsSerializer === "function") return opts.paramsSerializer(params);
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) sp.append(k, String(item));
    else sp.append(k, String(v));
  }
  return sp.toString();
}

/** A plain object as multipart form data: bytes become a file part, everything else a field. */
function toFormData(data: Record<string, unknown>): FormData {
  const form = new FormData();
  const name = typeof data.file_name === "string" ? data.file_name : "file";
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined || v === null) continue;
    if (v instanceof Uint8Array) form.append(k, new Blob([new Uint8Array(v)]), name);
    else if (v instanceof Blob) form.append(k, v, name);
    else form.append(k, String(v));
  }
  return form;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text.slice(0, 200) };
  }
}

export function fetchHttpInstance(options: FetchInstanceOptions): HttpInstance {
  const doFetch = options.fetch ?? fetch;

  async function request<R>(opts: HttpRequestOptions<unknown>): Promise<R> {
    const method = (opts.method ?? "GET").toUpperCase();
    const qs = queryString(opts);
    const url = qs ? `${opts.url}${opts.url?.includes("?") ? "&" : "?"}${qs}` : (opts.url ?? "");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v !== undefined && v !== null) headers[k] = String(v);
    }
    let body: BodyInit | undefined;
    if (method !== "GET" && method !== "HEAD" && opts.data !== undefined) {
      const multipart = Object.entries(headers).some(
        ([k, v]) => k.toLowerCase() === "content-type" && v.startsWith("multipart/form-data"),
      );
      if (opts.data instanceof FormData || multipart) {
        // The SDK's uploads hand over a plain object and ask for multipart (axios converts it).
        body = opts.data instanceof FormData ? opts.data : toFormData(opts.data as Record<string, unknown>);
        for (const k of Object.keys(headers)) if (k.toLowerCase() === "content-type") delete headers[k];
      } else {
        body = JSON.stringify(opts.data);
        if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) {
          headers["Content-Type"] = "application/json; charset=utf-8";
        }
      }
    }
    const path = url.replace(/^https?:\/\/[^/]+/, "").split("?")[0] ?? "";
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeout ?? options.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new LarkApiError(
        timedOut
          ? `${method} ${path}: no answer within ${opts.timeout ?? options.timeoutMs} ms`
          : `${method} ${path}: ${String(err)}`,
        0,
        0,
      );
    }
    const data = await readBody(res);
    if (!res.ok) {
      const d = data as { code?: unknown; msg?: unknown; error?: { log_id?: unknown } };
      const reset = res.headers.get("x-ogw-ratelimit-reset");
      throw new LarkApiError(
        `${method} ${path}: HTTP ${res.status}${typeof d.msg === "string" ? ` ${d.msg}` : ""}`,
        typeof d.code === "number" ? d.code : 0,
        res.status,
        reset !== null && /^\d+$/.test(reset) ? Number(reset) : undefined,
        res.headers.get("x-tt-logid") ?? (typeof d.error?.log_id === "string" ? d.error.log_id : undefined),
      );
    }
    if (opts.$return_headers) {
      return { data, headers: Object.fromEntries(res.headers) } as R;
    }
    return data as R;
  }

  const withBody =
    (method: string) =>
    <R>(url: string, data?: unknown, opts?: HttpRequestOptions<unknown>) =>
      request<R>(Object.assign({}, opts, { url, method, data }));
  const withoutBody =
    (method: string) =>
    <R>(url: string, opts?: HttpRequestOptions<unknown>) =>
      request<R>(Object.assign({}, opts, { url, method }));

  return {
    request,
    get: withoutBody("GET"),
    delete: withoutBody("DELETE"),
    head: withoutBody("HEAD"),
    options: withoutBody("OPTIONS"),
    post: withBody("POST"),
    put: withBody("PUT"),
    patch: withBody("PATCH"),
  } as HttpInstance;
}
