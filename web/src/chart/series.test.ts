import { describe, expect, it } from "vitest";
import type { PricePoint } from "../api/client";
import { chartSeries } from "./series";

const point = (checked_at: number, price: string | null, currency: string | null = "EUR",
               availability: string | null = "in_stock"): PricePoint =>
  ({ checked_at, price, currency, availability, source: "json-ld" });

describe("chartSeries", () => {
  it("orders oldest first and finds lowest, highest and the first price", () => {
    // The API answers newest first.
    const s = chartSeries([point(300, "90.00"), point(200, "120.00"), point(100, "100.00")], "EUR", "95.00");
    expect(s.times).toEqual([100, 200, 300]);
    expect(s.prices).toEqual([100, 120, 90]);
    expect(s.target).toEqual([95, 95, 95]);
    expect(s.lowest).toEqual({ price: 90, at: 300 });
    expect(s.highest).toEqual({ price: 120, at: 200 });
    expect(s.first).toEqual({ price: 100, at: 100 });
  });

  it("leaves a gap where a check saw availability but no price", () => {
    const s = chartSeries([point(200, null, null, "out_of_stock"), point(100, "10.00")], "EUR", "5");
    expect(s.prices).toEqual([10, null]);
    expect(s.lowest).toEqual({ price: 10, at: 100 });
  });

  it("leaves out prices in another currency and counts them", () => {
    const s = chartSeries([point(200, "10.00", "USD"), point(100, "12.00", "eur")], "EUR", "5");
    expect(s.times).toEqual([100]);
    expect(s.otherCurrency).toBe(1);
  });

  it("has no extremes without prices", () => {
    const s = chartSeries([], "EUR", "5");
    expect(s).toMatchObject({ times: [], lowest: null, highest: null, first: null });
  });
});
