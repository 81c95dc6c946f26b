// One tracked item in the list: last price seen and when, target, distance to target,
// availability and the check state.
import type { Item } from "../api/client";
import { formatAvailability, formatPercent, percentChange, shopHost } from "../format/format";
import { CheckStatus } from "./CheckStatus";
import { Money } from "./Money";

export function ItemCard({ item, now }: { item: Item; now?: number }) {
  const vsTarget = percentChange(item.current_price, item.target_price);
  const reached = item.current_price !== null && Number(item.current_price) <= Number(item.target_price);
  const availability = formatAvailability(item.availability);
  return (
    <article class="card item-card">
      <h3><a href={`/items/${encodeURIComponent(item.id)}`}>{item.title || shopHost(item.url)}</a></h3>
      <p class="muted">{shopHost(item.url)}</p>
      <dl class="facts">
        <div><dt>Price</dt><dd><Money amount={item.current_price} currency={item.currency} /></dd></div>
        <div><dt>Target</dt><dd><Money amount={item.target_price} currency={item.currency} /></dd></div>
        <div>
          <dt>To target</dt>
          <dd>{vsTarget === null ? <span class="muted">—</span>
            : reached ? <strong class="good">Target reached ({formatPercent(vsTarget)})</strong>
            : <span>{formatPercent(vsTarget)} above</span>}</dd>
        </div>
        <div><dt>Availability</dt><dd>{availability ?? <span class="muted">Unknown</span>}</dd></div>
      </dl>
      <p><CheckStatus item={item} now={now} /></p>
    </article>
  );
}
