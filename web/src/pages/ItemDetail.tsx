// One item: what the checks saw (chart, lowest/highest, change since the first price
// recorded), its settings, "check now" and "stop tracking".
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Item, PricePoint } from "../api/client";
import { ApiError } from "../api/client";
import { PriceChart } from "../chart/PriceChart";
import { chartSeries } from "../chart/series";
import { CheckStatus, When } from "../components/CheckStatus";
import { ErrorText } from "../components/ErrorText";
import { Money } from "../components/Money";
import { useLoad } from "../components/useLoad";
import {
  formatAvailability, formatDateTime, formatPercent, parsePriceInput, percentChange, shopHost,
} from "../format/format";
import { navigate } from "../router";
import { type Store, useStore } from "../store";

/** History pages the chart reads (100 checks each, newest first). */
const HISTORY_PAGES = 5;

async function loadHistory(store: Store, itemId: string): Promise<{ points: PricePoint[]; more: boolean }> {
  const points: PricePoint[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const got = await store.api.history(itemId, cursor, 100);
    points.push(...got.items);
    cursor = got.next_cursor;
    if (!cursor) break;
  }
  return { points, more: cursor !== null };
}

export function ItemDetail({ store, id }: { store: Store; id: string }) {
  const cached = useStore(store, (s) => s.items.find((i) => i.id === id) ?? null);
  const item = useLoad(() => store.api.getItem(id).then((fresh) => { store.replaceItem(fresh); return fresh; }), [id]);
  const history = useLoad(() => loadHistory(store, id), [id]);
  const current = cached ?? item.data;

  if (!current) {
    if (item.error instanceof ApiError && item.error.status === 404) {
      return <section><h1 tabIndex={-1}>Item not found</h1>
        <p>It may have been deleted. <a href="/">Back to your items</a></p></section>;
    }
    return <section><h1 tabIndex={-1}>Item</h1>{item.error ? <ErrorText error={item.error} />
      : <p aria-busy="true">Loading…</p>}</section>;
  }
  return <ItemView key={current.id} store={store} item={current} points={history.data?.points ?? null}
                   morePoints={history.data?.more ?? false} historyError={history.error}
                   reload={() => { item.reload(); history.reload(); }} />;
}

function ItemView({ store, item, points, morePoints, historyError, reload }:
  { store: Store; item: Item; points: PricePoint[] | null; morePoints: boolean; historyError: unknown;
    reload: () => void }) {
  const title = item.title || shopHost(item.url);
  const series = useMemo(() => points && chartSeries(points, item.currency, item.target_price),
                         [points, item.currency, item.target_price]);
  // The first price a check found (kept by the engine), else the oldest point loaded.
  const first = item.first_price ?? (series?.first ? series.first.price.toFixed(2) : null);
  const since = percentChange(item.current_price, first);
  const availability = formatAvailability(item.availability);

  return (
    <article class="item-page">
      <p><a href="/">← All items</a></p>
      <h1 tabIndex={-1}>{title}</h1>
      <p><a href={item.url} rel="noopener noreferrer" target="_blank">Open on {shopHost(item.url)}
        <span class="visually-hidden"> (opens in a new tab)</span></a></p>
      <dl class="facts wide">
        <div><dt>Last price seen</dt><dd><Money amount={item.current_price} currency={item.currency} /></dd></div>
        <div><dt>Target</dt><dd><Money amount={item.target_price} currency={item.currency} /></dd></div>
        <div><dt>Since the first price recorded</dt>
          <dd>{since === null ? <span class="muted">—</span> : formatPercent(since)}</dd></div>
        <div><dt>Availability</dt><dd>{availability ?? <span class="muted">Unknown</span>}</dd></div>
        <div><dt>Lowest</dt><dd>{series?.lowest
          ? <><Money amount={series.lowest.price.toFixed(2)} currency={item.currency} /> <small>(<When at={series.lowest.at} />)</small></>
          : <span class="muted">—</span>}</dd></div>
        <div><dt>Highest</dt><dd>{series?.highest
          ? <><Money amount={series.highest.price.toFixed(2)} currency={item.currency} /> <small>(<When at={series.highest.at} />)</small></>
          : <span class="muted">—</span>}</dd></div>
        <div><dt>Tracked since</dt><dd>{formatDateTime(item.created_at)}</dd></div>
        <div><dt>Next scheduled check</dt><dd>{item.status === "paused" ? "None (paused)" : <When at={item.next_check_at} />}</dd></div>
      </dl>
      <p><CheckStatus item={item} /></p>
      <CheckNow store={store} item={item} onDone={reload} />

      <h2>Price history ({item.currency})</h2>
      <ErrorText error={historyError} />
      {series && <PriceChart series={series} currency={item.currency} title={title} />}
      {series && series.otherCurrency > 0 && (
        <p class="muted">{series.otherCurrency} checks saw a price in another currency and are not drawn.</p>)}
      {morePoints && <p class="muted">Showing the latest {HISTORY_PAGES * 100} checks.</p>}

      <EditItem store={store} item={item} />
      <DeleteItem store={store} item={item} />
    </article>
  );
}

function CheckNow({ store, item, onDone }: { store: Store; item: Item; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function check() {
    setBusy(true);
    setError(null);
    try {
      const accepted = await store.api.checkNow(item.id);
      store.replaceItem({ ...item, check_requested_at: accepted.check_requested_at });
      store.notify("Check requested: the result appears here when the engine has checked the page.");
      onDone();
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  return (
    <div class="actions">
      <button type="button" onClick={check} disabled={busy || item.status === "paused"}>
        {busy ? "Requesting…" : "Check now"}</button>
      <ErrorText error={error} />
    </div>
  );
}

function EditItem({ store, item }: { store: Store; item: Item }) {
  const me = useStore(store, (s) => s.me);
  // The plan decides whether auto-buy is offered: an item page opened directly (a link, a
  // reload) has not loaded the account yet.
  useEffect(() => {
    if (!store.get().me) store.loadMe().catch(() => { /* the account page shows it */ });
  }, []);
  const [target, setTarget] = useState(item.target_price);
  const [drop, setDrop] = useState(item.alert_drop_percent ?? "");
  const [backInStock, setBackInStock] = useState(item.alert_back_in_stock);
  const [active, setActive] = useState(item.status === "active");
  const [autoBuy, setAutoBuy] = useState(item.auto_buy);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    const price = parsePriceInput(target);
    if (price === null) { setError(new Error("Enter the target as a positive price, e.g. 49.99")); return; }
    const dropText = drop.trim().replace(",", ".");
    if (dropText && !(/^\d{1,2}(\.\d{1,2})?$/.test(dropText) && Number(dropText) > 0)) {
      setError(new Error("The drop alert is a percentage above 0 and below 100, e.g. 10")); return;
    }
    setBusy(true);
    try {
      const saved = await store.api.updateItem(item.id, {
        target_price: price, alert_drop_percent: dropText || null, alert_back_in_stock: backInStock,
        status: active ? "active" : "paused",
        ...(autoBuy !== item.auto_buy ? { auto_buy: autoBuy } : {}),
      });
      store.replaceItem(saved);
      store.notify("Saved.");
    } catch (err) { setError(err); } finally { setBusy(false); }
  }

  return (
    <form class="card" onSubmit={save} noValidate>
      <h2>Alerts and settings</h2>
      <div class="row">
        <div class="field">
          <label for="edit-target">Target price ({item.currency})</label>
          <input id="edit-target" inputMode="decimal" value={target} required
                 onInput={(e) => setTarget(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="edit-drop">Also alert on a drop of (%)</label>
          <input id="edit-drop" inputMode="decimal" value={drop} placeholder="off"
                 aria-describedby="edit-drop-help" onInput={(e) => setDrop(e.currentTarget.value)} />
          <small id="edit-drop-help">below the highest price seen; empty for off</small>
        </div>
      </div>
      <div class="check">
        <input id="edit-stock" type="checkbox" checked={backInStock}
               onChange={(e) => setBackInStock(e.currentTarget.checked)} />
        <label for="edit-stock">Alert when it is back in stock</label>
      </div>
      <div class="check">
        <input id="edit-active" type="checkbox" checked={active}
               onChange={(e) => setActive(e.currentTarget.checked)} />
        <label for="edit-active">Keep checking this item</label>
      </div>
      {(me?.limits.auto_buy || item.auto_buy) && (
        <div class="check">
          <input id="edit-autobuy" type="checkbox" checked={autoBuy}
                 onChange={(e) => setAutoBuy(e.currentTarget.checked)} />
          <label for="edit-autobuy">Auto-buy at the target (you confirm each order)</label>
        </div>
      )}
      <ErrorText error={error} />
      <button type="submit" class="primary" disabled={busy}>{busy ? "Saving…" : "Save"}</button>
    </form>
  );
}

function DeleteItem({ store, item }: { store: Store; item: Item }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function remove() {
    setError(null);
    try {
      await store.api.deleteItem(item.id);
      store.removeItem(item.id);
      store.notify(`Stopped tracking ${item.title || shopHost(item.url)}.`);
      store.loadMe().catch(() => {});
      navigate("/");
    } catch (err) { setError(err); }
  }
  return (
    <section class="card danger" aria-labelledby="delete-title">
      <h2 id="delete-title">Stop tracking</h2>
      {!asking
        ? <button type="button" onClick={() => setAsking(true)}>Stop tracking this item…</button>
        : <div role="group" aria-label="Confirm stop tracking">
            <p>This deletes the item and its price history.</p>
            <button type="button" class="danger" onClick={remove} autoFocus>Yes, stop tracking</button>{" "}
            <button type="button" onClick={() => setAsking(false)}>Keep it</button>
          </div>}
      <ErrorText error={error} />
    </section>
  );
}
