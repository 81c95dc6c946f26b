// The account: plan, its limits, what is used, and the billing state.
import { useState } from "preact/hooks";
import { ErrorText } from "../components/ErrorText";
import { Money } from "../components/Money";
import { useLoad } from "../components/useLoad";
import { formatDateTime } from "../format/format";
import type { Store } from "../store";

const hours = (minutes: number) =>
  minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;

export function Account({ store }: { store: Store }) {
  const me = useLoad(() => store.loadMe().then(() => store.get().me!), []);
  const billing = useLoad(() => store.api.billing(), []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function upgrade(tier: "pro" | "ultra") {
    setError(null);
    setBusy(true);
    try {
      const session = await store.api.checkout(tier);
      location.assign(session.url);
    } catch (err) { setError(err); setBusy(false); }
  }

  const m = me.data;
  const b = billing.data;
  return (
    <section>
      <h1 tabIndex={-1}>Account</h1>
      <ErrorText error={me.error} />
      {m && (
        <div class="card">
          <h2>{m.user.name || m.user.email}</h2>
          <p>Plan: <strong class="tier">{m.user.tier}</strong></p>
          <label for="usage">Items tracked: {m.usage.items} of {m.limits.item_limit}</label>
          <progress id="usage" max={m.limits.item_limit} value={m.usage.items} />
          <dl class="facts wide">
            <div><dt>Checked every</dt><dd>{hours(m.limits.check_interval_minutes)}</dd></div>
            <div><dt>History kept</dt><dd>{m.limits.history_days} days</dd></div>
            <div><dt>"Check now" per hour</dt><dd>{m.limits.manual_checks_per_hour}</dd></div>
            <div><dt>Auto-buy</dt><dd>{m.limits.auto_buy ? "Included" : "Not on this plan"}</dd></div>
          </dl>
        </div>
      )}
      <ErrorText error={billing.error} />
      {b && (
        <div class="card">
          <h2>Billing</h2>
          <dl class="facts wide">
            <div><dt>Subscription</dt><dd>{b.status ?? "None"}</dd></div>
            <div><dt>Amount</dt><dd>{b.amount && b.currency
              ? <Money amount={b.amount} currency={b.currency} /> : "—"}</dd></div>
            <div><dt>Current period ends</dt><dd>{b.current_period_end
              ? formatDateTime(Date.parse(b.current_period_end) / 1000) : "—"}</dd></div>
          </dl>
          {b.tier !== "ultra" && (
            <div class="actions">
              {b.tier === "free" && <button type="button" class="primary" disabled={busy}
                                             onClick={() => upgrade("pro")}>Upgrade to pro</button>}{" "}
              <button type="button" disabled={busy} onClick={() => upgrade("ultra")}>Upgrade to ultra</button>
            </div>
          )}
          <ErrorText error={error} />
        </div>
      )}
    </section>
  );
}
