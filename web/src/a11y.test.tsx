// @vitest-environment jsdom
// axe-core's WCAG 2.x A/AA rules on the rendered pages (jsdom cannot lay out or paint, so
// colour contrast and target size are left to the browser checks that come with the twin).
import { fireEvent, render, screen } from "@testing-library/preact";
import axe from "axe-core";
import { describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { config, fakeServer, item, ME, storeWith, TOKENS } from "./test-support/fakeServer";

vi.mock("uplot", () => ({ default: class { setSize() {} destroy() {} } }));
vi.mock("uplot/dist/uPlot.min.css", () => ({}));

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    rules: { "color-contrast": { enabled: false } },
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const api = () => fakeServer({
  "GET /v1/config": () => ({ status: 200, body: config() }),
  "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
  "GET /v1/me": () => ({ status: 200, body: ME }),
  "GET /v1/items": () => ({ status: 200, body: { items: [item(), item({ id: "i2", current_price: null,
    last_checked: null, last_outcome: "blocked", last_reason: "captcha", last_attempt_at: 1_700_000_900 })],
                                                  next_cursor: null } }),
  "GET /v1/items/([^/]+)": () => ({ status: 200, body: item() }),
  "GET /v1/items/([^/]+)/history": () => ({ status: 200, body: { items: [
    { checked_at: 1_700_000_600, price: "49.99", currency: "EUR", availability: "in_stock", source: "json-ld" },
  ], next_cursor: null } }),
  "GET /v1/billing": () => ({ status: 200, body: { tier: "free", status: null, has_customer: false,
                                                    amount: null, currency: null, current_period_end: null } }),
  "GET /v1/alerts": () => ({ status: 200, body: { items: [], next_cursor: null } }),
  "GET /v1/orders": () => ({ status: 200, body: { items: [], next_cursor: null } }),
});

describe("accessibility (axe-core, WCAG 2.2 A/AA rules that need no layout)", () => {
  it("has no violations on the sign-in page, the list, an item, the account", async () => {
    history.replaceState(null, "", "/");
    render(<App store={storeWith(api().fetch)} />);
    await screen.findByLabelText("E-mail address");
    expect(await violations()).toEqual([]);

    fireEvent.input(screen.getByLabelText("E-mail address"), { target: { value: "me@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findAllByRole("link", { name: "Kettle" });
    expect(await violations()).toEqual([]);

    fireEvent.click(screen.getAllByRole("link", { name: "Kettle" })[0]);
    await screen.findByText("Price history as a table");
    expect(await violations()).toEqual([]);

    fireEvent.click(screen.getByRole("link", { name: "Account" }));
    await screen.findByRole("heading", { name: "Billing" });
    expect(await violations()).toEqual([]);
    history.replaceState(null, "", "/");
  });
});
