import { describe, expect, it } from "vitest";
import {
  defaultCurrency, formatAvailability, formatDate, formatDateTime, formatMoney, formatPercent, formatRelative,
  parsePriceInput, percentChange, shopHost,
} from "./format";

// Expected strings are what the ECMA-402 locale data says (Node ships full ICU), written out
// by hand, not computed with the same Intl call. Spaces inside numbers may be U+00A0/U+202F.
const plain = (s: string | null) => s?.replace(/[\u00a0\u202f]/g, " ") ?? null;

describe("formatMoney", () => {
  it("uses the item's currency and the locale's conventions", () => {
    expect(formatMoney("199.99", "EUR", "en-US")).toBe("€199.99");
    expect(plain(formatMoney("199.99", "EUR", "de-DE"))).toBe("199,99 €");
    expect(formatMoney("1234.5", "USD", "en-US")).toBe("$1,234.50");
    expect(formatMoney("1234.50", "GBP", "en-GB")).toBe("£1,234.50");
    expect(plain(formatMoney("5", "JPY", "ja-JP"))).toBe("￥5");
  });

  it("accepts a lower-case code and numbers", () => {
    expect(formatMoney(3, "eur", "en-US")).toBe("€3.00");
  });

  it("has no price for null, empty or non-numeric amounts", () => {
    expect(formatMoney(null, "EUR", "en-US")).toBeNull();
    expect(formatMoney(undefined, "EUR", "en-US")).toBeNull();
    expect(formatMoney("", "EUR", "en-US")).toBeNull();
    expect(formatMoney("abc", "EUR", "en-US")).toBeNull();
  });

  it("keeps an unknown currency code visible instead of failing", () => {
    expect(formatMoney("10", "ZZ1", "en-US")).toBe("10.00 ZZ1");
  });
});

describe("dates", () => {
  // 2026-03-04T05:06:00Z; rendered in UTC so the test does not depend on the machine's zone.
  const at = Date.UTC(2026, 2, 4, 5, 6) / 1000;
  it("formats dates in the locale", () => {
    expect(formatDate(at, "en-US")).toBe("Mar 4, 2026");
    expect(formatDate(at, "de-DE")).toBe("04.03.2026");
  });

  it("formats date and time", () => {
    expect(plain(formatDateTime(at, "en-GB"))).toBe("4 Mar 2026, 05:06");
  });

  it("says how long ago", () => {
    expect(formatRelative(1000 - 300, 1000, "en")).toBe("5 minutes ago");
    expect(formatRelative(1000 + 7200, 1000, "en")).toBe("in 2 hours");
    expect(formatRelative(1000 - 86400, 1000, "en")).toBe("yesterday");
    expect(formatRelative(1000 - 10, 1000, "en")).toBe("now");
  });
});

describe("percentChange / formatPercent", () => {
  it("is the signed change against the reference", () => {
    expect(percentChange("90.00", "100.00")).toBeCloseTo(-10);
    expect(percentChange("110.00", "100.00")).toBeCloseTo(10);
  });

  it("is unknown without both prices or with a zero reference", () => {
    expect(percentChange(null, "100.00")).toBeNull();
    expect(percentChange("100.00", null)).toBeNull();
    expect(percentChange("1.00", "0.00")).toBeNull();
  });

  it("shows the sign", () => {
    expect(formatPercent(-12.5, "en-US")).toBe("-12.5%");
    expect(formatPercent(3, "en-US")).toBe("+3%");
    expect(formatPercent(0, "en-US")).toBe("0%");
  });
});

describe("formatAvailability", () => {
  it("names the engine's values", () => {
    expect(formatAvailability("in_stock")).toBe("In stock");
    expect(formatAvailability("out_of_stock")).toBe("Out of stock");
    expect(formatAvailability("preorder")).toBe("Pre-order");
    expect(formatAvailability(null)).toBeNull();
  });
});

describe("parsePriceInput", () => {
  it("accepts dots and commas and pads to cents", () => {
    expect(parsePriceInput("12")).toBe("12.00");
    expect(parsePriceInput("12.5")).toBe("12.50");
    expect(parsePriceInput("12,50")).toBe("12.50");
    expect(parsePriceInput(" 1299.99 ")).toBe("1299.99");
    expect(parsePriceInput("007.10")).toBe("7.10");
  });

  it("refuses what the API would refuse", () => {
    for (const bad of ["", "0", "0.00", "-3", "1.999", "1,2,3", "12 €", "abc", "12345678901"]) {
      expect(parsePriceInput(bad), bad).toBeNull();
    }
  });
});

describe("shopHost", () => {
  it("names the shop", () => {
    expect(shopHost("https://www.shop.example/p/1?x=2")).toBe("shop.example");
    expect(shopHost("not a url")).toBe("not a url");
  });
});

describe("defaultCurrency", () => {
  it("follows the locale's region", () => {
    expect(defaultCurrency("en-US")).toBe("USD");
    expect(defaultCurrency("en-GB")).toBe("GBP");
    expect(defaultCurrency("de-DE")).toBe("EUR");
    expect(defaultCurrency("de")).toBe("EUR");
    expect(defaultCurrency("ja")).toBe("JPY");
    expect(defaultCurrency("")).toBe("EUR"); // no locale at all
  });
});
