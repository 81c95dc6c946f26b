// The list of tracked items, with the form to track another.
import { useEffect, useState } from "preact/hooks";
import { AddItemForm } from "../components/AddItemForm";
import { ErrorText } from "../components/ErrorText";
import { ItemCard } from "../components/ItemCard";
import { type Store, useStore } from "../store";

export function Items({ store }: { store: Store }) {
  const items = useStore(store, (s) => s.items);
  const loaded = useStore(store, (s) => s.itemsLoaded);
  const cursor = useStore(store, (s) => s.itemsCursor);
  const me = useStore(store, (s) => s.me);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = async (more = false) => {
    setBusy(true);
    setError(null);
    try { await store.loadItems(more); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  useEffect(() => {
    void load();
    if (!store.get().me) store.loadMe().catch(() => { /* the account page shows it */ });
  }, []);

  return (
    <section>
      <h1 tabIndex={-1}>Tracked items</h1>
      {me && <p class="muted">{me.usage.items} of {me.limits.item_limit} items on the {me.user.tier} plan.</p>}
      <AddItemForm store={store} onAdded={() => store.loadMe().catch(() => {})} />
      <ErrorText error={error} />
      {!loaded && busy && <p aria-busy="true">Loading your items…</p>}
      {loaded && items.length === 0 && <p class="empty">You are not tracking anything yet.</p>}
      {items.length > 0 && (
        <ul class="item-list" aria-label="Tracked items">
          {items.map((item) => <li key={item.id}><ItemCard item={item} /></li>)}
        </ul>
      )}
      {cursor && <button type="button" onClick={() => load(true)} disabled={busy}>Show more</button>}
    </section>
  );
}
