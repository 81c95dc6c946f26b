import { formatMoney } from "../format/format";

/** A price in its currency, or the reason there is none — never a made-up number. */
export function Money({ amount, currency, missing = "No price seen yet" }:
  { amount: string | null; currency: string; missing?: string }) {
  const text = formatMoney(amount, currency);
  return text === null ? <span class="muted">{missing}</span> : <span class="money">{text}</span>;
}
