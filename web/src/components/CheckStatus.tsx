// What the last check of an item saw, in words. The API reports the last *successful*
// check (last_checked, with its price and availability), the last check of any outcome
// (last_outcome, last_reason, last_attempt_at) and a pending "check now"
// (check_requested_at). A price is only ever shown with the time it was seen; a blocked or
// failed check is said as such, never turned into a price.
import type { Item } from "../api/client";
import { formatDateTime, formatRelative } from "../format/format";

export type CheckState =
  | { kind: "paused" }
  | { kind: "never" }
  | { kind: "requested"; at: number; lastOk: number | null }
  | { kind: "blocked" | "failed"; at: number; reason: string | null; lastOk: number | null }
  | { kind: "ok"; at: number };

type Checked = Pick<Item, "status" | "last_checked" | "check_requested_at" | "last_outcome"
  | "last_reason" | "last_attempt_at">;

export function checkState(item: Checked): CheckState {
  if (item.status === "paused") return { kind: "paused" };
  const lastOk = item.last_checked;
  const lastAttempt = item.last_attempt_at ?? null;
  // A request is pending until a check of any outcome ran after it.
  if (item.check_requested_at !== null && item.check_requested_at > Math.max(lastOk ?? 0, lastAttempt ?? 0)) {
    return { kind: "requested", at: item.check_requested_at, lastOk };
  }
  if ((item.last_outcome === "blocked" || item.last_outcome === "failed") && lastAttempt !== null
      && lastAttempt > (lastOk ?? 0)) {
    return { kind: item.last_outcome, at: lastAttempt, reason: item.last_reason ?? null, lastOk };
  }
  return lastOk === null ? { kind: "never" } : { kind: "ok", at: lastOk };
}

/** The latest check was blocked or failed: the price shown is an older one. */
export function lastCheckNotOk(item: Checked): boolean {
  const kind = checkState(item).kind;
  return kind === "blocked" || kind === "failed";
}

export function When({ at, now }: { at: number; now?: number }) {
  return (
    <time dateTime={new Date(at * 1000).toISOString()} title={formatDateTime(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

function LastOk({ at, now }: { at: number | null; now?: number }) {
  return at === null ? <>; no successful check yet</>
    : <>; last successful check <When at={at} now={now} /></>;
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
    case "blocked":
    case "failed":
      return (
        <span class="status status-bad">
          {state.kind === "blocked" ? "Blocked by the shop" : "Check failed"} <When at={state.at} now={now} />
          {state.reason && ` (${state.reason})`}
          <LastOk at={state.lastOk} now={now} />
        </span>
      );
    case "ok":
      return <span class="status status-ok">Checked <When at={state.at} now={now} /></span>;
  }
}
