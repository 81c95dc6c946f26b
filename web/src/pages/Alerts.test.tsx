// @vitest-environment jsdom
import { render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { fakeServer, item, storeWith, TOKENS } from "../test-support/fakeServer";
import { Alerts } from "./Alerts";

describe("Alerts", () => {
  it("lists each alert with its item, what happened, the price and where it was sent", async () => {
    const server = fakeServer({
      "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
      "GET /v1/items": () => ({ status: 200, body: { items: [item()], next_cursor: null } }),
      "GET /v1/alerts": () => ({ status: 200, body: { items: [
        { id: "a1", item_id: "i1", kind: "price", price: "39.00", currency: "EUR", crossing: 1,
          created_at: 1_700_000_000, deliveries: { email: "sent", sns: "failed: timeout" } },
        { id: "a2", item_id: "gone", kind: "back_in_stock", price: null, currency: null, crossing: null,
          created_at: 1_699_000_000, deliveries: {} },
      ], next_cursor: null } }),
    });
    const store = storeWith(server.fetch);
    await store.api.signInDev("me@example.com");
    render(<Alerts store={store} />);
    const cards = await screen.findAllByRole("listitem");
    expect(cards[0].textContent).toContain("Kettle");
    expect(cards[0].textContent).toContain("Reached the target at €39.00");
    expect(cards[0].textContent).toContain("Sent by email: sent; sns: failed: timeout");
    expect(cards[1].textContent).toContain("A deleted item");
    expect(cards[1].textContent).toContain("Back in stock");
  });
});
