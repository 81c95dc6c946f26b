// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import type { Order } from "../api/client";
import { fakeServer, item, storeWith, TOKENS } from "../test-support/fakeServer";
import { Orders } from "./Orders";

const NOW = 1_800_000_000;
const order = (id: string, state: Order["state"], confirmBefore: number): Order => ({
  id, item_id: "i1", crossing: 1, price: "39.00", currency: "EUR", state,
  created_at: NOW - 60, confirm_before: confirmBefore, history: [{ at: NOW - 60, state, note: "" }],
});

async function setup(orders: Order[]) {
  const server = fakeServer({
    "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    "GET /v1/items": () => ({ status: 200, body: { items: [item()], next_cursor: null } }),
    "GET /v1/orders": () => ({ status: 200, body: { items: orders, next_cursor: null } }),
    "POST /v1/orders/([^/]+)/confirm": (_r, [id]) =>
      ({ status: 200, body: { ...orders.find((o) => o.id === id)!, state: "placed" } }),
    "POST /v1/orders/([^/]+)/cancel": (_r, [id]) =>
      ({ status: 200, body: { ...orders.find((o) => o.id === id)!, state: "cancelled" } }),
  });
  const store = storeWith(server.fetch);
  await store.api.signInDev("me@example.com");
  render(<Orders store={store} now={() => NOW} />);
  await screen.findAllByRole("heading", { name: "Kettle" });
  return server;
}

describe("Orders", () => {
  it("offers confirm and cancel only for a pending order inside its window", async () => {
    await setup([order("open", "pending", NOW + 600), order("late", "pending", NOW - 1),
                 order("done", "placed", NOW + 600)]);
    const cards = screen.getAllByRole("listitem");
    expect(within(cards[0]).getByRole("button", { name: "Confirm order" })).toBeTruthy();
    expect(within(cards[0]).getByRole("button", { name: "Cancel" })).toBeTruthy();
    expect(within(cards[1]).queryByRole("button")).toBeNull();
    expect(within(cards[2]).queryByRole("button")).toBeNull();
    expect(cards[2].textContent).toContain("Placed with the shop");
  });

  it("confirms and shows the answer's state", async () => {
    const server = await setup([order("open", "pending", NOW + 600)]);
    fireEvent.click(screen.getByRole("button", { name: "Confirm order" }));
    await waitFor(() => expect(screen.getByText("Placed with the shop")).toBeTruthy());
    expect(server.seen.at(-1)).toMatchObject({ method: "POST", path: "/v1/orders/open/confirm" });
    expect(screen.queryByRole("button", { name: "Confirm order" })).toBeNull();
  });

  it("cancels", async () => {
    const server = await setup([order("open", "pending", NOW + 600)]);
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.getByText("Cancelled")).toBeTruthy());
    expect(server.seen.at(-1)?.path).toBe("/v1/orders/open/cancel");
  });
});
