// Auto-buy orders (ultra tier): a pending order is placed only when confirmed inside its
// window; cancel gives the reserved spend back.
import { useState } from "preact/hooks";
import type { Order } from "../api/client";
import { When } from "../components/CheckStatus";
import { ErrorText } from "../components/ErrorText";
import { Money } from "../components/Money";
import { useLoad } from "../components/useLoad";
import { formatDateTime, shopHost } from "../format/format";
import { type Store, useStore } from "../store";

const STATE: Record<Order["state"], string> = {
  pending: "Waiting for your confirmation", confirmed: "Confirmed", placed: "Placed with the shop",
  failed: "Failed", cancelled: "Cancelled", expired: "Expired (not confirmed in time)", rejected: "Rejected",
};

export function Orders({ store, now = () => Date.now() / 1000 }: { store: Store; now?: () => number }) {
  const items = useStore(store, (s) => s.items);
  const orders = useLoad(async () => {
    if (!store.get().itemsLoaded) await store.loadItems().catch(() => {});
    return store.api.listOrders();
  }, []);
  const [changed, setChanged] = useState<Record<string, Order>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const name = (itemId: string) => {
    const item = items.find((i) => i.id === itemId);
    return item ? item.title || shopHost(item.url) : "A deleted item";
  };
  async function act(order: Order, action: "confirm" | "cancel") {
    setError(null);
    setBusy(order.id);
    try {
      const done = action === "confirm" ? await store.api.confirmOrder(order.id)
        : await store.api.cancelOrder(order.id);
      setChanged((c) => ({ ...c, [done.id]: done }));
      store.notify(`Order ${STATE[done.state].toLowerCase()}.`);
    } catch (err) {
      setError(err);
      orders.reload();
    } finally { setBusy(null); }
  }

  const list = (orders.data?.items ?? []).map((o) => changed[o.id] ?? o);
  return (
    <section>
      <h1 tabIndex={-1}>Auto-buy orders</h1>
      <ErrorText error={orders.error} />
      <ErrorText error={error} />
      {orders.loading && !orders.data && <p aria-busy="true">Loading…</p>}
      {orders.data && list.length === 0 && <p class="empty">No orders. Auto-buy (ultra plan) creates one when an
        item reaches its target; you confirm it here.</p>}
      <ul class="plain-list">
        {list.map((o) => {
          const open = o.state === "pending" && o.confirm_before > now();
          const last = o.history.at(-1);
          return (
            <li key={o.id} class="card">
              <h2 class="h3"><a href={`/items/${encodeURIComponent(o.item_id)}`}>{name(o.item_id)}</a></h2>
              <p><Money amount={o.price} currency={o.currency} /> — <strong>{STATE[o.state]}</strong></p>
              <p class="muted">Created <When at={o.created_at} />
                {open && <>; confirm before {formatDateTime(o.confirm_before)}</>}
                {last?.note && <>; {last.note}</>}</p>
              {open && (
                <div class="actions">
                  <button type="button" class="primary" disabled={busy === o.id}
                          onClick={() => act(o, "confirm")}>Confirm order</button>{" "}
                  <button type="button" disabled={busy === o.id} onClick={() => act(o, "cancel")}>Cancel</button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
