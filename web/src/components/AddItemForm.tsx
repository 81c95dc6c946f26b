// Track a product: its URL, the target price and the currency the shop charges in.
import { useState } from "preact/hooks";
import type { Item } from "../api/client";
import { CURRENCIES, defaultCurrency, parsePriceInput } from "../format/format";
import type { Store } from "../store";
import { ErrorText } from "./ErrorText";

export function AddItemForm({ store, onAdded }: { store: Store; onAdded?: (item: Item) => void }) {
  const [url, setUrl] = useState("");
  const [target, setTarget] = useState("");
  const [currency, setCurrency] = useState(defaultCurrency);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const price = parsePriceInput(target);
    if (!/^https?:\/\/\S+$/i.test(url.trim())) {
      setError(new Error("Enter the product page's address, starting with https://"));
      return;
    }
    if (price === null) {
      setError(new Error("Enter the target as a positive price with at most two decimals, e.g. 49.99"));
      return;
    }
    setBusy(true);
    try {
      const item = await store.api.createItem({ url: url.trim(), target_price: price, currency });
      store.replaceItem(item);
      store.notify(`Now tracking ${item.title || item.url}.`);
      setUrl("");
      setTarget("");
      onAdded?.(item);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card add-item" onSubmit={submit} noValidate aria-labelledby="add-item-title">
      <h2 id="add-item-title">Track a product</h2>
      <div class="field">
        <label for="add-url">Product page address</label>
        <input id="add-url" name="url" type="url" inputMode="url" autoComplete="url" required
               placeholder="https://shop.example/product/123" value={url}
               onInput={(e) => setUrl(e.currentTarget.value)} />
      </div>
      <div class="row">
        <div class="field">
          <label for="add-target">Alert me at or below</label>
          <input id="add-target" name="target_price" inputMode="decimal" required autoComplete="off"
                 placeholder="49.99" value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="add-currency">Currency</label>
          <select id="add-currency" name="currency" value={currency}
                  onChange={(e) => setCurrency(e.currentTarget.value)}>
            {(CURRENCIES.includes(currency) ? CURRENCIES : [currency, ...CURRENCIES]).map((c) =>
              <option key={c} value={c}>{c}</option>)}
          </select>
        </div>
      </div>
      <ErrorText error={error} />
      <button type="submit" class="primary" disabled={busy}>{busy ? "Adding…" : "Track"}</button>
    </form>
  );
}
