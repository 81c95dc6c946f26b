// What the price chart draws, from the API's history (newest first): oldest-first time
// axis, the prices in the item's currency (a check that saw no price is a gap, never a
// made-up value), the target as a flat line, and the lowest and highest seen.
import type { PricePoint } from "../api/client";

export interface Extreme { price: number; at: number }

export interface ChartSeries {
  /** Unix seconds, oldest first */
  times: number[];
  prices: (number | null)[];
  target: number[];
  lowest: Extreme | null;
  highest: Extreme | null;
  first: Extreme | null;
  /** points left out because they were in another currency than the item's */
  otherCurrency: number;
}

export function chartSeries(points: PricePoint[], currency: string, targetPrice: string): ChartSeries {
  const target = Number(targetPrice);
  const wanted = currency.toUpperCase();
  const sorted = [...points].sort((a, b) => a.checked_at - b.checked_at);
  const out: ChartSeries = { times: [], prices: [], target: [], lowest: null, highest: null, first: null,
                             otherCurrency: 0 };
  for (const point of sorted) {
    if (point.price !== null && point.currency && point.currency.toUpperCase() !== wanted) {
      out.otherCurrency += 1;
      continue;
    }
    const price = point.price === null ? null : Number(point.price);
    out.times.push(point.checked_at);
    out.prices.push(price);
    out.target.push(target);
    if (price === null) continue;
    const here = { price, at: point.checked_at };
    out.first ??= here;
    if (!out.lowest || price < out.lowest.price) out.lowest = here;
    if (!out.highest || price > out.highest.price) out.highest = here;
  }
  return out;
}
