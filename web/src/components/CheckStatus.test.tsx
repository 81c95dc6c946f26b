// @vitest-environment jsdom
import { render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { item } from "../test-support/fakeServer";
import { CheckStatus, checkState } from "./CheckStatus";

const NOW = 1_700_001_200; // ten minutes after item().last_checked

describe("checkState", () => {
  it("tells paused, never checked, requested and checked apart", () => {
    expect(checkState(item({ status: "paused" }))).toEqual({ kind: "paused" });
    expect(checkState(item({ last_checked: null }))).toEqual({ kind: "never" });
    expect(checkState(item({ check_requested_at: 1_700_000_900 })))
      .toEqual({ kind: "requested", at: 1_700_000_900, lastOk: 1_700_000_600 });
    // A request older than the last successful check has been served.
    expect(checkState(item({ check_requested_at: 1_700_000_500 }))).toEqual({ kind: "ok", at: 1_700_000_600 });
  });

  it("tells a blocked or failed last check from a good one", () => {
    const blocked = item({ last_outcome: "blocked", last_reason: "Cloudflare challenge",
                           last_attempt_at: 1_700_000_900 });
    expect(checkState(blocked)).toEqual({ kind: "blocked", at: 1_700_000_900,
                                          reason: "Cloudflare challenge", lastOk: 1_700_000_600 });
    expect(checkState(item({ last_outcome: "failed", last_reason: "HTTP 404", last_attempt_at: 1_700_000_900,
                             last_checked: null })))
      .toEqual({ kind: "failed", at: 1_700_000_900, reason: "HTTP 404", lastOk: null });
    // a check requested after the blocked one is pending; one requested before was served
    expect(checkState({ ...blocked, check_requested_at: 1_700_001_000 }).kind).toBe("requested");
    expect(checkState({ ...blocked, check_requested_at: 1_700_000_800 }).kind).toBe("blocked");
  });
});

describe("CheckStatus", () => {
  it("says when the last successful check was, with the exact time in a <time>", () => {
    render(<CheckStatus item={item()} now={NOW} />);
    expect(screen.getByText(/Checked/).textContent).toBe("Checked 10 minutes ago");
    expect(document.querySelector("time")?.getAttribute("datetime")).toBe("2023-11-14T22:23:20.000Z");
  });

  it("says a requested check is pending and when the last good one was", () => {
    render(<CheckStatus item={item({ check_requested_at: NOW - 60 })} now={NOW} />);
    expect(screen.getByText(/Check requested/).textContent)
      .toBe("Check requested 1 minute ago; last successful check 10 minutes ago");
  });

  it("says a blocked check was blocked, with the shop's reason, and when the last good one was", () => {
    render(<CheckStatus item={item({ last_outcome: "blocked", last_reason: "Cloudflare challenge",
                                     last_attempt_at: NOW - 300 })} now={NOW} />);
    expect(screen.getByText(/Blocked/).textContent)
      .toBe("Blocked by the shop 5 minutes ago (Cloudflare challenge); last successful check 10 minutes ago");
  });

  it("says a failed check failed, also when none ever succeeded", () => {
    render(<CheckStatus item={item({ last_outcome: "failed", last_reason: "no price on the page",
                                     last_attempt_at: NOW - 60, last_checked: null,
                                     current_price: null })} now={NOW} />);
    expect(screen.getByText(/Check failed/).textContent)
      .toBe("Check failed 1 minute ago (no price on the page); no successful check yet");
  });

  it("never pretends an unchecked item was checked", () => {
    render(<CheckStatus item={item({ last_checked: null, current_price: null })} now={NOW} />);
    expect(screen.getByText("Not checked successfully yet")).toBeTruthy();
  });
});
