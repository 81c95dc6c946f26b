// Track a product: its URL, a preview of what a check sees there now (name, price,
// availability, or why it could not tell), the target price and the currency the shop
// charges in. The preview is a help, not a gate: a page the shop blocks today can still be
// tracked (later checks may get through).
import { useState } from "preact/hooks";
import type { Item, Preview } from "../api/client";
import { CURRENCIES, defaultCurrency, formatAvailability, parsePriceInput } from "../format/format";
import type { Store } from "../store";
import { ErrorText } from "./ErrorText";
import { Money } from "./Money";

const LOOKS_LIKE_URL = /^https?:\/\/\S+$/i;

/** Why a preview found no price, in words, from the API's stable reason. */
export function previewProblem(preview: Preview): string | null {
  const detail = preview.detail ? ` (${preview.detail})` : "";
  switch (preview.reason) {
    case null: return null;
    case "blocked":
      return `The shop answered with a bot check instead of the page${detail}, so no price could be read. `
        + "You can still track it: later checks try again.";
    case "not_a_product_page":
      return "No price or availability was found on this page. Is it the product's own page?";
    case "not_allowed":
      return `This address may not be fetched${detail}.`;
    case "fetch_failed":
      return `The page could not be fetched${detail}.`;
  }
}

function PreviewResult({ preview }: { preview: Preview }) {
  const problem = previewProblem(preview);
  const availability = formatAvailability(preview.availability);
  return (
    <div class={problem ? "preview preview-bad" : "preview"}>
      <h3>What a check sees now</h3>
      {preview.name && <p class="preview-name">{preview.name}</p>}
      {problem ? <p>{problem}</p> : (
        <dl class="facts">
          <div><dt>Price</dt><dd>{preview.currency
            ? <Money amount={preview.price} currency={preview.currency} missing="No price shown" />
            : <span class="muted">No price shown</span>}</dd></div>
          <div><dt>Availability</dt><dd>{availability ?? <span class="muted">Unknown</span>}</dd></div>
        </dl>
      )}
    </div>
  );
}

export function AddItemForm({ store, onAdded }: { store: Store; onAdded?: (item: Item) => void }) {
  const [url, setUrl] = useState("");
  const [target, setTarget] = useState("");
  const [currency, setCurrency] = useState(defaultCurrency);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  function urlProblem(): Error | null {
    return LOOKS_LIKE_URL.test(url.trim())
      ? null : new Error("Enter the product page's address, starting with https://");
  }

  async function runPreview() {
    setError(null);
    setPreview(null);
    const problem = urlProblem();
    if (problem) { setError(problem); return; }
    setPreviewing(true);
    try {
      const seen = await store.api.preview(url.trim());
      setPreview(seen);
      if (seen.currency) setCurrency(seen.currency);
    } catch (err) {
      setError(err);
    } finally {
      setPreviewing(false);
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const price = parsePriceInput(target);
    const problem = urlProblem();
    if (problem) {
      setError(problem);
      return;
    }
    if (price === null) {
      setError(new Error("Enter the target as a positive price with at most two decimals, e.g. 49.99"));
      return;
    }
    setBusy(true);
    try {
      const item = await store.api.createItem({ url: url.trim(), target_price: price, currency,
                                                ...(preview?.name ? { title: preview.name.slice(0, 200) } : {}) });
      store.replaceItem(item);
      store.notify(`Now tracking ${item.title || item.url}.`);
      setUrl("");
      setTarget("");
      setPreview(null);
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
               onInput={(e) => { setUrl(e.currentTarget.value); setPreview(null); }} />
      </div>
      <button type="button" onClick={runPreview} disabled={previewing || busy}>
        {previewing ? "Looking at the page…" : "Preview"}
      </button>
      <div aria-live="polite">{preview && <PreviewResult preview={preview} />}</div>
      <div class="row">
        <div class="field">
          <label for="add-target">Alert me at or below</label>
          <input id="add-target" name="target_price" inputMode="decimal" required autoComplete="off"
                 placeholder={preview?.price ?? "49.99"} value={target}
                 onInput={(e) => setTarget(e.currentTarget.value)} />
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
