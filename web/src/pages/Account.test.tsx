// @vitest-environment jsdom
import { fireEvent, render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { fakeServer, ME, storeWith, TOKENS } from "../test-support/fakeServer";
import { Account } from "./Account";

const fact = (name: string) => screen.getByText(name, { selector: "dt" }).nextElementSibling!.textContent;

async function setup(checkout: () => { status: number; body?: unknown }) {
  const server = fakeServer({
    "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    "GET /v1/me": () => ({ status: 200, body: { ...ME, usage: { items: 3 } } }),
    "GET /v1/billing": () => ({ status: 200, body: { tier: "free", status: null, has_customer: false,
                                                      amount: null, currency: null, current_period_end: null } }),
    "POST /v1/billing/checkout": checkout,
  });
  const store = storeWith(server.fetch);
  await store.api.signInDev("me@example.com");
  render(<Account store={store} />);
  await screen.findByRole("heading", { name: "Billing" });
  return server;
}

describe("Account", () => {
  it("shows the plan, its limits and the usage against them", async () => {
    await setup(() => ({ status: 500 }));
    expect(screen.getByText("free", { selector: "strong" })).toBeTruthy();
    const usage = screen.getByLabelText("Items tracked: 3 of 5") as HTMLProgressElement;
    expect([usage.value, usage.max]).toEqual([3, 5]);
    expect(fact("Checked every")).toBe("6 h");
    expect(fact("History kept")).toBe("30 days");
    expect(fact('"Check now" per hour')).toBe("5");
    expect(fact("Auto-buy")).toBe("Not on this plan");
    expect(fact("Subscription")).toBe("None");
  });

  it("says why an upgrade cannot start when Stripe is unreachable", async () => {
    const server = await setup(() => ({ status: 503, body: { error: { status: 503, title: "Service unavailable",
      detail: "the payment provider is unreachable", request_id: "r" } } }));
    fireEvent.click(screen.getByRole("button", { name: "Upgrade to pro" }));
    expect((await screen.findByRole("alert")).textContent).toBe("the payment provider is unreachable");
    expect(server.seen.at(-1)).toMatchObject({ path: "/v1/billing/checkout", body: { tier: "pro" } });
  });
});
