// @vitest-environment jsdom
import { render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PriceChart } from "./PriceChart";
import { chartSeries } from "./series";

// uPlot draws on a canvas jsdom does not have: record what the component gives it.
const made = vi.hoisted(() => [] as { opts: any; data: any }[]);
vi.mock("uplot", () => ({
  default: class {
    constructor(opts: unknown, data: unknown) { made.push({ opts, data }); }
    setSize() {}
    destroy() {}
  },
}));
vi.mock("uplot/dist/uPlot.min.css", () => ({}));

afterEach(() => { made.length = 0; });

const points = [
  { checked_at: Date.UTC(2026, 0, 3) / 1000, price: "80.00", currency: "EUR", availability: "in_stock", source: "json-ld" },
  { checked_at: Date.UTC(2026, 0, 2) / 1000, price: null, currency: null, availability: "out_of_stock", source: "json-ld" },
  { checked_at: Date.UTC(2026, 0, 1) / 1000, price: "100.00", currency: "EUR", availability: "in_stock", source: "json-ld" },
];

describe("PriceChart", () => {
  it("draws prices and the target line with uPlot, and says what it shows", async () => {
    render(<PriceChart series={chartSeries(points, "EUR", "90.00")} currency="EUR" title="Kettle" />);
    await waitFor(() => expect(made).toHaveLength(1));
    const [times, prices, target] = made[0].data;
    expect(times).toEqual([Date.UTC(2026, 0, 1) / 1000, Date.UTC(2026, 0, 2) / 1000, Date.UTC(2026, 0, 3) / 1000]);
    expect(prices).toEqual([100, null, 80]);
    expect(target).toEqual([90, 90, 90]);
    expect(made[0].opts.series.map((s: { label: string }) => s.label)).toEqual(["Checked", "Price", "Target"]);
    const img = screen.getByRole("img");
    expect(img.getAttribute("aria-label")).toMatch(/lowest €80\.00, highest €100\.00, target €90\.00/);
  });

  it("lists the points as a table, a check without a price as such", () => {
    render(<PriceChart series={chartSeries(points, "EUR", "90.00")} currency="EUR" title="Kettle" />);
    const rows = screen.getAllByRole("row").slice(1).map((r) => r.textContent);
    expect(rows).toEqual([
      expect.stringContaining("€80.00"),
      expect.stringContaining("No price seen"),
      expect.stringContaining("€100.00"),
    ]);
  });

  it("says there is no history instead of drawing an empty chart", () => {
    render(<PriceChart series={chartSeries([], "EUR", "90.00")} currency="EUR" title="Kettle" />);
    expect(screen.getByText(/No price history yet/)).toBeTruthy();
    expect(made).toHaveLength(0);
  });
});
