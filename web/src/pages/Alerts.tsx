// Alerts fired for the user's items, newest first, with where each was delivered.
import type { Alert } from "../api/client";
import { When } from "../components/CheckStatus";
import { ErrorText } from "../components/ErrorText";
import { Money } from "../components/Money";
import { useLoad } from "../components/useLoad";
import { shopHost } from "../format/format";
import { type Store, useStore } from "../store";

const KIND: Record<Alert["kind"], string> = {
  price: "Reached the target",
  drop: "Dropped by your percentage",
  back_in_stock: "Back in stock",
};

export function Alerts({ store }: { store: Store }) {
  const items = useStore(store, (s) => s.items);
  const alerts = useLoad(async () => {
    if (!store.get().itemsLoaded) await store.loadItems().catch(() => {});
    return store.api.listAlerts();
  }, []);
  const name = (itemId: string) => {
    const item = items.find((i) => i.id === itemId);
    return item ? item.title || shopHost(item.url) : "A deleted item";
  };
  const list = alerts.data?.items ?? [];
  return (
    <section>
      <h1 tabIndex={-1}>Alerts</h1>
      <ErrorText error={alerts.error} />
      {alerts.loading && !alerts.data && <p aria-busy="true">Loading…</p>}
      {alerts.data && list.length === 0 && <p class="empty">No alerts yet.</p>}
      <ul class="plain-list">
        {list.map((a) => (
          <li key={a.id} class="card">
            <h2 class="h3"><a href={`/items/${encodeURIComponent(a.item_id)}`}>{name(a.item_id)}</a></h2>
            <p><strong>{KIND[a.kind]}</strong>
              {a.price !== null && a.currency && <> at <Money amount={a.price} currency={a.currency} /></>}
              {" — "}<When at={a.created_at} /></p>
            {Object.keys(a.deliveries).length > 0 && (
              <p class="muted">Sent by {Object.entries(a.deliveries)
                .map(([channel, result]) => `${channel}: ${result}`).join("; ")}</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
