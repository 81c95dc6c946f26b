// What the last check of an item saw, in words. The API reports the last *successful*
// check (last_checked, with its price and availability) and a pending "check now"
// (check_requested_at); a price is only ever shown with the time it was seen.
import type { Item } from "../api/client";
import { formatDateTime, formatRelative } from "../format/format";

export type CheckState =
  | { kind: "paused" }
  | { kind: "never" }
  | { kind: "requested"; at: number; lastOk: number | null }
  | { kind: "ok"; at: number };

export function checkState(item: Pick<Item, "status" | "last_checked" | "check_requested_at">): CheckState {
  if (item.status === "paused") return { kind: "paused" };
  const lastOk = item.last_checked;
  if (item.check_requested_at !== null && item.check_requested_at > (lastOk ?? 0)) {
    return { kind: "requested", at: item.check_requested_at, lastOk };
  }
  return lastOk === null ? { kind: "never" } : { kind: "ok", at: lastOk };
}

export function When({ at, now }: { at: number; now?: number }) {
  return (
    <time dateTime={new Date(at * 1000).toISOString()} title={formatDateTime(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

export function CheckStatus({ item, now }: { item: Item; now?: number }) {
  const state = checkState(item);
  switch (state.kind) {
    case "paused":
      return <span class="status status-paused">Paused: not being checked</span>;
    case "never":
      return <span class="status status-pending">Not checked successfully yet</span>;
    case "requested":
      return (
        <span class="status status-pending">
          Check requested <When at={state.at} now={now} />
          {state.lastOk !== null && <>; last successful check <When at={state.lastOk} now={now} /></>}
        </span>
      );
    case "ok":
      return <span class="status status-ok">Checked <When at={state.at} now={now} /></span>;
  }
}
