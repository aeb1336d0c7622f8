import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPostgres } from "../src/db/postgres";

/** Small helpers shared by the benchmarks: timing, percentiles, a fixed-concurrency driver. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export interface RunStats {
  n: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** This process's CPU time (user + system) per operation, in ms: less disturbed by other load than wall time. */
  cpuMsPerOp: number;
  /** Where the CPU went, per operation (Linux only: read from /proc). */
  cpu?: CpuSplit;
}

/**
 * CPU time per operation by where it was spent: this process's main thread (JavaScript, and PGlite),
 * its other threads (V8's garbage collector and compiler, libuv), local `postgres` processes (0 when
 * the server is elsewhere), and how much of the machine sat idle meanwhile. A run whose main thread
 * idles while the machine is busy is short of cores, not of work.
 */
export interface CpuSplit {
  mainMsPerOp: number;
  helpersMsPerOp: number;
  postgresMsPerOp: number;
  machineIdlePct: number;
}

interface CpuTicks {
  main: number;
  helpers: number;
  postgres: number;
  idle: number;
  all: number;
}

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

const ticksOf = (stat: string): number => {
  // Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
};

function cpuTicks(): CpuTicks | undefined {
  try {
    let main = 0;
    let helpers = 0;
    for (const tid of readdirSync("/proc/self/task")) {
      const t = ticksOf(readFileSync(`/proc/self/task/${tid}/stat`, "utf8"));
      if (tid === String(process.pid)) main += t;
      else helpers += t;
    }
    let pg = 0;
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (stat.includes(" (postgres) ")) pg += ticksOf(stat);
      } catch {
        // The process ended meanwhile.
      }
    }
    const cpu = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
    const all = cpu.reduce((a, b) => a + b, 0);
    return { main, helpers, postgres: pg, idle: (cpu[3] ?? 0) + (cpu[4] ?? 0), all };
  } catch {
    return undefined;
  }
}

function cpuSplit(a: CpuTicks | undefined, b: CpuTicks | undefined, ops: number): CpuSplit | undefined {
  if (!a || !b || b.all === a.all) return undefined;
  const ms = (ticks: number) => ((ticks / USER_HZ) * 1000) / ops;
  return {
    mainMsPerOp: ms(b.main - a.main),
    helpersMsPerOp: ms(b.helpers - a.helpers),
    postgresMsPerOp: ms(b.postgres - a.postgres),
    machineIdlePct: (100 * (b.idle - a.idle)) / (b.all - a.all),
  };
}

/** Run `task(i)` `total` times with `concurrency` in flight; latencies in ms. */
export async function drive(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<RunStats> {
  const latencies: number[] = [];
  let next = 0;
  // Reading /proc takes milliseconds: before the clock starts, and after it stops.
  const ticks0 = cpuTicks();
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const split = cpuSplit(ticks0, cpuTicks(), total);
  latencies.sort((a, b) => a - b);
  return {
    n: total,
    seconds,
    perSecond: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerOp: (cpu.user + cpu.system) / 1000 / total,
    cpu: split,
  };
}

export function fmt(s: RunStats): string {
  return `${s.n} ops in ${s.seconds.toFixed(2)} s = ${s.perSecond.toFixed(0)}/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, cpu ${s.cpuMsPerOp.toFixed(3)} ms/op`;
}

/** "main 0.31 + helpers 0.17 + postgres 0.20 ms/op, machine 30 % idle" (empty off Linux). */
export function fmtCpu(s: RunStats): string {
  const c = s.cpu;
  if (!c) return "";
  return `main ${c.mainMsPerOp.toFixed(2)} + helpers ${c.helpersMsPerOp.toFixed(2)} + postgres ${c.postgresMsPerOp.toFixed(2)} ms/op, machine ${c.machineIdlePct.toFixed(0)} % idle`;
}

/**
 * Run `fn` on a throwaway, migrated database on the Postgres at BENCH_DATABASE_URL (dropped after);
 * resolves undefined without running when the variable is unset.
 */
export async function withBenchPostgres<T>(
  name: string,
  opts: { max?: number },
  fn: (database: Database) => Promise<T>,
): Promise<T | undefined> {
  const serverUrl = process.env.BENCH_DATABASE_URL;
  if (!serverUrl) return undefined;
  const dbName = `whistle_bench_${name}_${process.pid}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  try {
    const u = new URL(serverUrl);
    u.pathname = `/${dbName}`;
    const database = openPostgres(u.toString(), {
      max: opts.max,
      prepare: process.env.BENCH_PREPARE !== "off",
    });
    try {
      await migrateDatabase(database, u.toString());
      return await fn(database);
    } finally {
      await database.close();
    }
  } finally {
    // BENCH_KEEP_DB=1 keeps it for a look with psql afterwards (drop it by hand).
    if (process.env.BENCH_KEEP_DB === "1") console.log(`kept database ${dbName}`);
    else await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
}

/**
 * With BENCH_PROFILE=<dir>, a V8 CPU profile of one timed section (call the returned function at
 * its end with a name); otherwise nothing. Open the .cpuprofile in Chrome DevTools. With
 * BENCH_HEAP=1 too, a sampling heap profile of everything allocated instead (.heapprofile).
 */
export async function startProfile(): Promise<(name: string) => Promise<void>> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return async () => {};
  const { Session } = await import("node:inspector/promises");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const session = new Session();
  session.connect();
  const heap = process.env.BENCH_HEAP === "1";
  if (heap) {
    await session.post("HeapProfiler.enable");
    // Objects collected since count too: the profile shows what is allocated, not what is kept.
    const sampling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true };
    await session.post("HeapProfiler.startSampling", {
      ...sampling,
      includeObjectsCollectedByMinorGC: true,
    } as never);
  } else {
    await session.post("Profiler.enable");
    // 100 µs (the inspector's default is 1 ms: too coarse for a request of a few hundred µs).
    await session.post("Profiler.setSamplingInterval", {
      interval: Number(process.env.BENCH_PROFILE_US ?? 100),
    });
    await session.post("Profiler.start");
  }
  return async (name) => {
    if (heap) {
      const { profile: hp } = await session.post("HeapProfiler.stopSampling");
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/${name}-${Date.now()}.heapprofile`, JSON.stringify(hp));
      return;
    }
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/${name}-${Date.now()}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    console.log(`profile: ${file}`);
  };
}

/** The departments the benchmarks set up (20, each bound to its own chat). */
export const DEPARTMENT_NAMES = [
  "城管执法队",
  "派出所",
  "房管所",
  "市场监管所",
  "环卫所",
  "消防救援站",
  "交通支队",
  "住建委",
  "卫健委",
  "民政科",
  "司法所",
  "燃气公司",
  "供水集团",
  "供电公司",
  "园林绿化所",
  "水务所",
  "生态环境局",
  "应急管理局",
  "规划自然资源所",
  "文化执法队",
];
