// The price-history chart: uPlot (canvas, ~20 KB gzipped) loaded only when an item's page
// shows a chart, so the first page does not pay for it. The canvas is summarised for
// screen readers by the caption, and the same points are available as a table.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDate, formatDateTime, formatMoney, userLocale } from "../format/format";
import type { ChartSeries } from "./series";

interface Props { series: ChartSeries; currency: string; title: string }

const HEIGHT = 260;

export function PriceChart({ series, currency, title }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  const money = (v: number | null) => (v === null ? "—" : formatMoney(v, currency) ?? "—");

  useEffect(() => {
    const el = box.current;
    if (!el || series.times.length === 0) return;
    let chart: { destroy(): void; setSize(s: { width: number; height: number }): void } | null = null;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([{ default: UPlot }]) => {
      if (cancelled) return;
      const short = new Intl.DateTimeFormat(userLocale(), { month: "short", day: "numeric" });
      const width = () => Math.max(260, el.clientWidth);
      chart = new UPlot({
        width: width(), height: HEIGHT,
        scales: { x: { time: true } },
        legend: { live: true },
        series: [
          { label: "Checked", value: (_u, v) => (v == null ? "—" : formatDateTime(v)) },
          { label: "Price", stroke: "#1f4fd1", width: 2, spanGaps: false,
            points: { show: series.times.length < 60 }, value: (_u, v) => money(v) },
          { label: "Target", stroke: "#a34700", dash: [6, 4], width: 1.5, points: { show: false },
            value: (_u, v) => money(v) },
        ],
        axes: [
          { values: (_u, splits) => splits.map((s) => short.format(new Date(s * 1000))) },
          { size: 84, values: (_u, splits) => splits.map((s) => money(s)) },
        ],
      }, [series.times, series.prices, series.target], el);
      if (typeof ResizeObserver !== "undefined") {
        observer = new ResizeObserver(() => chart?.setSize({ width: width(), height: HEIGHT }));
        observer.observe(el);
      }
    }).catch(() => { if (!cancelled) setFailed(true); });
    return () => { cancelled = true; observer?.disconnect(); chart?.destroy(); };
  }, [series, currency]);

  if (series.times.length === 0) {
    return <p class="empty">No price history yet: the first successful check will start it.</p>;
  }
  const { lowest, highest } = series;
  const summary = `${title}: ${series.times.length} checks from ${formatDate(series.times[0])} to ` +
    `${formatDate(series.times[series.times.length - 1])}` +
    (lowest && highest ? `, lowest ${money(lowest.price)}, highest ${money(highest.price)}` : "") +
    `, target ${money(series.target[0])}.`;
  return (
    <figure class="chart">
      <figcaption>{summary}</figcaption>
      {failed
        ? <p class="error">The chart could not be loaded; the table below has the same prices.</p>
        : <div ref={box} class="chart-canvas" role="img" aria-label={summary} />}
      <details>
        <summary>Price history as a table</summary>
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">Checked</th><th scope="col">Price</th></tr></thead>
            <tbody>
              {series.times.map((t, i) => (
                <tr key={t}>
                  <td><time dateTime={new Date(t * 1000).toISOString()}>{formatDateTime(t)}</time></td>
                  <td>{series.prices[i] === null ? "No price seen" : money(series.prices[i])}</td>
                </tr>
              )).reverse()}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
