import { useState, type FormEvent } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, query, type BillingUsage, type Quota } from "../api.ts";
import { ChoiceField } from "../components/choice-field.tsx";
import { Empty, ErrorNotice, Loading, PageHeader } from "../components/ui.tsx";
import { formatNumber, formatUsd } from "../format.ts";
import { useLoad, useTitle } from "../hooks.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import "./usage.css";

const DAY = 86_400_000;

type Metric = "requests" | "tokens" | "spend";
type StackBy = "model" | "principal" | "apiKey";

const METRICS: ReadonlyArray<{ value: Metric; label: string }> = [
  { value: "requests", label: "Requests" },
  { value: "tokens", label: "Tokens" },
  { value: "spend", label: "Spend" },
];

const STACKS: ReadonlyArray<{ value: StackBy; label: string; by: string }> = [
  { value: "model", label: "Model", by: "model" },
  { value: "principal", label: "Principal", by: "principal" },
  { value: "apiKey", label: "API key", by: "API key" },
];

const RANGES: ReadonlyArray<{ value: string; label: string }> = [
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
  { value: "month", label: "This month" },
  { value: "last-month", label: "Last month" },
  { value: "custom", label: "Custom range…" },
];

/** Distinct colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics); the rest of the series are "Other". */
const COLORS = ["#1f6feb", "#d1495b", "#2a9d4b", "#8a4fd3", "#c26a00", "#0f7c8c", "#b0368b", "#5b6475"];
const OTHER = "Other";

/** `YYYY-MM-DD` of a UTC day. */
const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The UTC days [from, to] (inclusive, `YYYY-MM-DD`) a range preset or custom dates name. */
function rangeDays(range: string, from: string, to: string, now: number): { from: string; to: string } {
  const today = utcDay(now);
  const d = new Date(now);
  if (range === "30d") return { from: utcDay(now - 29 * DAY), to: today };
  if (range === "month") return { from: utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)), to: today };
  if (range === "last-month") {
    return { from: utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)), to: utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - DAY) };
  }
  if (range === "custom" && /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to) return { from, to };
  return { from: utcDay(now - 6 * DAY), to: today };
}

function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) days.push(utcDay(t));
  return days;
}

type Row = BillingUsage["usage"][number];

const valueOf = (row: Row, metric: Metric): number => (metric === "requests" ? row.requestCount : metric === "tokens" ? row.totalTokens : row.costUsd);
const seriesOf = (row: Row, by: StackBy): string => (by === "model" ? row.model : by === "principal" ? row.principal : row.apiKeyId) ?? "";

/** A short legend name: a model's or key's last segment, a principal's email. */
const shortName = (series: string): string => (series.startsWith("accounts/") ? series.slice(series.lastIndexOf("/") + 1) : series);

interface Chart {
  days: Array<Record<string, number | string>>;
  series: string[];
  totals: Array<{ series: string; requests: number; tokens: number; spend: number }>;
}

/** One bar per UTC day, stacked by the largest series (the rest summed as "Other"). */
function chartOf(usage: BillingUsage, by: StackBy, metric: Metric, from: string, to: string): Chart {
  const totals = new Map<string, { series: string; requests: number; tokens: number; spend: number }>();
  for (const row of usage.usage) {
    const series = seriesOf(row, by);
    const t = totals.get(series) ?? { series, requests: 0, tokens: 0, spend: 0 };
    t.requests += row.requestCount;
    t.tokens += row.totalTokens;
    t.spend += row.costUsd;
    totals.set(series, t);
  }
  const ranked = [...totals.values()].sort((a, b) => b[metric] - a[metric] || a.series.localeCompare(b.series));
  const shown = ranked.length > COLORS.length ? ranked.slice(0, COLORS.length - 1).map((t) => t.series) : ranked.map((t) => t.series);
  const series = ranked.length > shown.length ? [...shown, OTHER] : shown;
  const byDay = new Map(daysBetween(from, to).map((day) => [day, Object.fromEntries([["day", day], ...series.map((s) => [s, 0])])]));
  for (const row of usage.usage) {
    const bar = byDay.get(row.day ?? "");
    if (!bar) continue;
    const name = shown.includes(seriesOf(row, by)) ? seriesOf(row, by) : OTHER;
    bar[name] = Number(bar[name] ?? 0) + valueOf(row, metric);
  }
  return { days: [...byDay.values()], series, totals: ranked };
}

/** Dollars, with the cents of small amounts not rounded away (a few test calls cost fractions of a cent). */
const formatSpend = (usd: number): string => (usd > 0 && usd < 0.01 ? `$${Number(usd.toPrecision(2))}` : formatUsd(usd));

const formatMetric = (metric: Metric, value: number): string => (metric === "spend" ? formatSpend(value) : formatNumber(value));

/** This month's spend (the quota's usage) against `monthly-spend-usd`; 0 means no limit. */
function SpendQuota({ quota }: { quota: Quota | undefined }) {
  if (!quota) return null;
  const limit = Number(quota.value);
  const ratio = limit > 0 ? Math.min(1, quota.usage / limit) : 0;
  const summary =
    limit > 0 ? `${formatUsd(quota.usage)} of ${formatUsd(limit)} this month (${Math.round(ratio * 100)}%)` : `${formatUsd(quota.usage)} this month, no limit`;
  return (
    <article className="card usage-stat usage-quota" aria-labelledby="usage-quota-title">
      <h2 id="usage-quota-title">Monthly spend quota</h2>
      <p className="usage-stat-value">{formatSpend(quota.usage)}</p>
      <p className="muted">
        {limit > 0 ? `of ${formatUsd(limit)} (monthly-spend-usd) this calendar month, UTC` : "this calendar month; monthly-spend-usd is 0: no limit"}
      </p>
      {limit > 0 && (
        <div className={`bar bar-${ratio >= 0.9 ? "full" : ratio >= 0.7 ? "warn" : "ok"}`} role="img" aria-label={summary}>
          <span className="bar-fill" style={{ width: `${ratio * 100}%` }} />
        </div>
      )}
    </article>
  );
}

/**
 * `/account/usage`: metered inference per UTC day as a stacked bar chart (requests, tokens or spend,
 * stacked by model, principal or API key), the range's totals, and this month's spend against the
 * `monthly-spend-usd` quota. Everything is read from `GET …/billingUsage?groupBy=day,<stack>`.
 */
export function UsagePage() {
  useTitle("Usage");
  const session = useSession();
  const { search } = useLocation();
  const range = RANGES.some((r) => r.value === search.get("range")) ? search.get("range")! : "7d";
  const metric = (METRICS.find((m) => m.value === search.get("metric"))?.value ?? "requests") as Metric;
  const by = (STACKS.find((s) => s.value === search.get("by"))?.value ?? "model") as StackBy;
  const [now] = useState(() => Date.now());
  const days = rangeDays(range, search.get("from") ?? "", search.get("to") ?? "", now);
  const [custom, setCustom] = useState(days);
  const base = `/v1/accounts/${session.accountId}`;
  const usage = useLoad(
    () =>
      api<BillingUsage>(
        "GET",
        `${base}/billingUsage${query({ startTime: `${days.from}T00:00:00Z`, endTime: new Date(Date.parse(`${days.to}T00:00:00Z`) + DAY).toISOString(), groupBy: `day,${by}` })}`,
      ),
    `${days.from}|${days.to}|${by}`,
  );
  const quota = useLoad(() => api<Quota>("GET", `${base}/quotas/monthly-spend-usd`), "quota");
  const chart = usage.data && chartOf(usage.data, by, metric, days.from, days.to);
  const total = usage.data?.total;
  const stack = STACKS.find((s) => s.value === by)!;
  const stackLabel = stack.label;
  const metricLabel = METRICS.find((m) => m.value === metric)!.label;

  const applyCustom = (event: FormEvent) => {
    event.preventDefault();
    setSearch({ range: "custom", from: custom.from, to: custom.to });
  };

  return (
    <>
      <PageHeader
        title="Usage"
        description="Metered inference of the account per UTC day: requests, tokens and spend, from the same meter the quotas and billing use."
      />
      <div className="toolbar usage-toolbar">
        <ChoiceField
          id="usage-range"
          label="Range"
          className="select-field"
          value={range}
          choices={RANGES}
          onChange={(value) => setSearch({ range: value, from: undefined, to: undefined })}
        />
        <div className="segmented" role="group" aria-label="Measure">
          {METRICS.map((m) => (
            <button
              key={m.value}
              type="button"
              aria-pressed={metric === m.value}
              onClick={() => setSearch({ metric: m.value === "requests" ? undefined : m.value })}
            >
              {m.label}
            </button>
          ))}
        </div>
        <div className="segmented" role="group" aria-label="Stack by">
          {STACKS.map((s) => (
            <button key={s.value} type="button" aria-pressed={by === s.value} onClick={() => setSearch({ by: s.value === "model" ? undefined : s.value })}>
              By {s.by}
            </button>
          ))}
        </div>
      </div>
      {range === "custom" && (
        <form className="card filters" onSubmit={applyCustom} aria-label="Custom range">
          <div className="field">
            <label htmlFor="usage-from">From (UTC day)</label>
            <input id="usage-from" type="date" value={custom.from} max={custom.to} onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))} />
          </div>
          <div className="field">
            <label htmlFor="usage-to">To (UTC day, included)</label>
            <input id="usage-to" type="date" value={custom.to} min={custom.from} onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))} />
          </div>
          <div className="filters-actions">
            <button type="submit" className="button button-primary">
              Show
            </button>
          </div>
        </form>
      )}

      <ErrorNotice error={usage.error} onRetry={usage.reload} />
      <div className="usage-stats">
        <article className="card usage-stat" aria-labelledby="usage-requests">
          <h2 id="usage-requests">Requests</h2>
          <p className="usage-stat-value">{total ? formatNumber(total.requestCount) : "…"}</p>
          <p className="muted">
            {days.from} to {days.to}
          </p>
        </article>
        <article className="card usage-stat" aria-labelledby="usage-tokens">
          <h2 id="usage-tokens">Tokens</h2>
          <p className="usage-stat-value">{total ? formatNumber(total.totalTokens) : "…"}</p>
          <p className="muted">{total ? `${formatNumber(total.promptTokens)} prompt, ${formatNumber(total.completionTokens)} completion` : ""}</p>
        </article>
        <article className="card usage-stat" aria-labelledby="usage-spend">
          <h2 id="usage-spend">Spend</h2>
          <p className="usage-stat-value">{total ? formatSpend(total.costUsd) : "…"}</p>
          <p className="muted">at the models' prices</p>
        </article>
        <SpendQuota quota={quota.data} />
      </div>

      {usage.loading && !usage.data && <Loading what="usage" />}
      {chart && chart.series.length === 0 && (
        <Empty icon="gauge" title="No usage in this range">
          <p>Inference calls through Hearth's gateway are metered here by the day they were made (UTC).</p>
        </Empty>
      )}
      {chart && chart.series.length > 0 && (
        <>
          <section className="card usage-chart" aria-labelledby="usage-chart-title">
            <h2 id="usage-chart-title">
              {metricLabel} per day, by {stack.by}
            </h2>
            <div
              className="usage-chart-canvas"
              role="img"
              aria-label={`${metricLabel} per UTC day from ${days.from} to ${days.to}, stacked by ${stack.by}; the table below lists the totals.`}
            >
              <ResponsiveContainer width="100%" height={320}>
                <BarChart data={chart.days} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
                  <CartesianGrid vertical={false} stroke="#e3e6eb" />
                  <XAxis dataKey="day" tickFormatter={(day: string) => day.slice(5)} tick={{ fill: "#4b5563", fontSize: 12 }} />
                  <YAxis tickFormatter={(v: number) => formatMetric(metric, v)} tick={{ fill: "#4b5563", fontSize: 12 }} width={72} />
                  <Tooltip formatter={(value) => formatMetric(metric, Number(value))} labelFormatter={(day) => `${String(day)} (UTC)`} />
                  <Legend formatter={(name: string) => shortName(name)} />
                  {chart.series.map((s, i) => (
                    <Bar key={s} dataKey={s} name={s} stackId="usage" fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </section>
          <div className="card table-card">
            <table className="table usage-table">
              <caption className="visually-hidden">
                Totals by {stack.by} from {days.from} to {days.to}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{stackLabel}</th>
                  <th scope="col" className="numeric">
                    Requests
                  </th>
                  <th scope="col" className="numeric">
                    Tokens
                  </th>
                  <th scope="col" className="numeric">
                    Spend
                  </th>
                </tr>
              </thead>
              <tbody>
                {chart.totals.map((t) => (
                  <tr key={t.series}>
                    <td className="mono usage-series">{t.series || "—"}</td>
                    <td className="numeric">{formatNumber(t.requests)}</td>
                    <td className="numeric">{formatNumber(t.tokens)}</td>
                    <td className="numeric">{formatSpend(t.spend)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
