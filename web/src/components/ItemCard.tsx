// One tracked item in the list: last price seen and when, target, distance to target,
// change since tracking (from the first price a check found), availability and the check
// state. After a blocked or failed check the price is labelled as the last one seen.
import type { Item } from "../api/client";
import { formatAvailability, formatPercent, percentChange, shopHost } from "../format/format";
import { CheckStatus, lastCheckNotOk } from "./CheckStatus";
import { Money } from "./Money";

export function ItemCard({ item, now }: { item: Item; now?: number }) {
  const vsTarget = percentChange(item.current_price, item.target_price);
  const reached = item.current_price !== null && Number(item.current_price) <= Number(item.target_price);
  const availability = formatAvailability(item.availability);
  const sinceTracking = percentChange(item.current_price, item.first_price);
  return (
    <article class="card item-card">
      <h3><a href={`/items/${encodeURIComponent(item.id)}`}>{item.title || shopHost(item.url)}</a></h3>
      <p class="muted">{shopHost(item.url)}</p>
      <dl class="facts">
        <div><dt>{lastCheckNotOk(item) ? "Last price seen" : "Price"}</dt>
          <dd><Money amount={item.current_price} currency={item.currency} /></dd></div>
        <div><dt>Target</dt><dd><Money amount={item.target_price} currency={item.currency} /></dd></div>
        <div>
          <dt>To target</dt>
          <dd>{vsTarget === null ? <span class="muted">—</span>
            : reached ? <strong class="good">Target reached ({formatPercent(vsTarget)})</strong>
            : <span>{formatPercent(vsTarget)} above</span>}</dd>
        </div>
        <div>
          <dt>Since tracking</dt>
          <dd>{sinceTracking === null ? <span class="muted">—</span> : formatPercent(sinceTracking)}</dd>
        </div>
        <div><dt>Availability</dt><dd>{availability ?? <span class="muted">Unknown</span>}</dd></div>
      </dl>
      <p><CheckStatus item={item} now={now} /></p>
    </article>
  );
}
