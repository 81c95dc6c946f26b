// Prices, dates and check outcomes for people: Intl in the browser's locale, money in the
// item's own currency. Money arrives from the API as decimal strings ("199.99").

/** The browser's preferred locale (undefined lets Intl pick its default). */
export function userLocale(): string | undefined {
  return typeof navigator !== "undefined" ? navigator.language || undefined : undefined;
}

// Making an Intl formatter costs far more than using one (ICU loads the locale's data):
// a list of 50 items would make hundreds. One per locale and options, made on first use.
const formatters = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  let found = formatters.get(key) as T | undefined;
  if (found === undefined) {
    found = make();
    formatters.set(key, found);
  }
  return found;
}

function currencyFormat(currency: string, locale?: string): Intl.NumberFormat {
  return cached(`currency|${locale}|${currency.toUpperCase()}`, () => {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase() });
    } catch {
      // Not an ISO 4217 code Intl knows: show the number and the code as they came.
      return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
  });
}

/** "199.99" + "EUR" -> "€199.99" (en-US) or "199,99 €" (de-DE); null when there is no price. */
export function formatMoney(amount: string | number | null | undefined, currency: string,
                            locale = userLocale()): string | null {
  if (amount === null || amount === undefined || amount === "") return null;
  const value = typeof amount === "number" ? amount : Number(amount);
  if (!Number.isFinite(value)) return null;
  const format = currencyFormat(currency, locale);
  const text = format.format(value);
  return format.resolvedOptions().style === "currency" ? text : `${text} ${currency.toUpperCase()}`;
}

/** Unix seconds -> a date and time in the user's locale. */
export function formatDateTime(seconds: number, locale = userLocale()): string {
  return cached(`datetime|${locale}`, () =>
    new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }))
    .format(new Date(seconds * 1000));
}

/** Unix seconds -> a short date (chart axis, lists). */
export function formatDate(seconds: number, locale = userLocale()): string {
  return cached(`date|${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "medium" }))
    .format(new Date(seconds * 1000));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400], ["day", 86400],
  ["hour", 3600], ["minute", 60],
];

/** Unix seconds relative to now ("5 minutes ago", "in 2 hours"); "now" inside a minute. */
export function formatRelative(seconds: number, nowSeconds = Date.now() / 1000,
                               locale = userLocale()): string {
  const diff = seconds - nowSeconds;
  const rtf = cached(`relative|${locale}`,
                     () => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }));
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size) return rtf.format(Math.trunc(diff / size), unit);
  }
  return rtf.format(0, "second");
}

/** Change of `current` against `reference` as a signed percentage, null when unknown. */
export function percentChange(current: string | null, reference: string | null): number | null {
  if (current === null || reference === null) return null;
  const now = Number(current);
  const then = Number(reference);
  if (!Number.isFinite(now) || !Number.isFinite(then) || then === 0) return null;
  return ((now - then) / then) * 100;
}

/** A signed percentage ("−12.5 %" style, locale-aware), with an explicit sign for rises. */
export function formatPercent(percent: number, locale = userLocale()): string {
  return cached(`percent|${locale}`, () => new Intl.NumberFormat(locale, {
    style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero",
  })).format(percent / 100);
}

const AVAILABILITY: Record<string, string> = {
  in_stock: "In stock",
  out_of_stock: "Out of stock",
  preorder: "Pre-order",
};

/** The engine's availability values in words; null when the check saw none. */
export function formatAvailability(value: string | null | undefined): string | null {
  if (!value) return null;
  return AVAILABILITY[value] ?? value.replace(/_/g, " ");
}

/**
 * A price as a person types it ("12", "12.5", "12,50", " 1299.99 ") -> the API's decimal
 * string ("12.50"), or null when it is not a positive amount with at most two decimals.
 */
export function parsePriceInput(text: string): string | null {
  const match = /^(\d{1,10})(?:[.,](\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  const cents = (match[2] ?? "").padEnd(2, "0");
  const value = `${match[1].replace(/^0+(?=\d)/, "")}.${cents}`;
  return Number(value) > 0 ? value : null;
}

/** The shop's host name, for a short label under an item's title. */
export function shopHost(url: string): string {
  try { return new URL(url).hostname.replace(/^www\./, ""); } catch { return url; }
}

/** Currencies offered when adding an item (the API takes any ISO 4217 code). */
export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "PLN", "CZK", "SEK", "DKK", "NOK", "JPY", "CAD", "AUD"];

const REGION_CURRENCY: Record<string, string> = {
  US: "USD", GB: "GBP", CH: "CHF", PL: "PLN", CZ: "CZK", SE: "SEK", DK: "DKK", NO: "NOK", JP: "JPY",
  CA: "CAD", AU: "AUD",
};

/** The likely currency of the user's region (EUR when the region is unknown or in the euro area). */
export function defaultCurrency(locale = userLocale()): string {
  try {
    const region = locale ? new Intl.Locale(locale).maximize().region : undefined;
    return (region && REGION_CURRENCY[region]) || "EUR";
  } catch {
    return "EUR";
  }
}
