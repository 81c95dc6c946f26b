// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import type { Item } from "../api/client";
import { fakeServer, item, ME, storeWith, TOKENS } from "../test-support/fakeServer";
import { ItemDetail } from "./ItemDetail";

vi.mock("uplot", () => ({ default: class { setSize() {} destroy() {} } }));
vi.mock("uplot/dist/uPlot.min.css", () => ({}));

async function setup(current: Item, patch = (body: Partial<Item>) => ({ status: 200, body: { ...current, ...body } }),
                     me = ME) {
  const server = fakeServer({
    "GET /v1/me": () => ({ status: 200, body: me }),
    "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    "GET /v1/items/([^/]+)": () => ({ status: 200, body: current }),
    "PATCH /v1/items/([^/]+)": (req) => patch(req.body as Partial<Item>),
    "GET /v1/items/([^/]+)/history": () => ({ status: 200, body: { items: [], next_cursor: null } }),
    "POST /v1/items/([^/]+)/check": () => ({ status: 429, body: { error: { status: 429, title: "Too many requests",
      detail: "5 manual checks per hour on the free plan.", request_id: "r" } } }),
  });
  const store = storeWith(server.fetch);
  await store.api.signInDev("me@example.com");
  render(<ItemDetail store={store} id={current.id} />);
  await screen.findByRole("heading", { level: 1, name: "Kettle" });
  return { server, store };
}

describe("ItemDetail", () => {
  it("saves a new target and alert options as the API expects them", async () => {
    const { server, store } = await setup(item());
    fireEvent.input(screen.getByLabelText("Target price (EUR)"), { target: { value: "35,5" } });
    fireEvent.input(screen.getByLabelText("Also alert on a drop of (%)"), { target: { value: "10" } });
    fireEvent.click(screen.getByLabelText("Alert when it is back in stock"));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(store.get().items[0]?.target_price).toBe("35.50"));
    expect(server.seen.at(-1)).toMatchObject({ method: "PATCH", path: "/v1/items/i1", body: {
      target_price: "35.50", alert_drop_percent: "10", alert_back_in_stock: true, status: "active" } });
    expect(screen.getByText("Target", { selector: "dt" }).nextElementSibling!.textContent).toBe("€35.50");
  });

  it("offers auto-buy on the ultra plan when the page is opened directly, and saves it", async () => {
    const ultra = { ...ME, user: { ...ME.user, tier: "ultra" }, limits: { ...ME.limits, auto_buy: true } };
    const { server, store } = await setup(item(), undefined, ultra);
    fireEvent.click(await screen.findByLabelText("Auto-buy at the target (you confirm each order)"));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(store.get().items[0]?.auto_buy).toBe(true));
    expect(server.seen.at(-1)).toMatchObject({ method: "PATCH", path: "/v1/items/i1", body: { auto_buy: true } });
  });

  it("does not offer auto-buy below the ultra plan", async () => {
    const { server } = await setup(item());
    await waitFor(() => expect(server.seen.some((s) => s.path === "/v1/me")).toBe(true));
    await screen.findByLabelText("Keep checking this item");
    expect(screen.queryByLabelText("Auto-buy at the target (you confirm each order)")).toBeNull();
  });

  it("refuses a drop percentage of 100 or more without calling the API", async () => {
    const { server } = await setup(item());
    fireEvent.input(screen.getByLabelText("Also alert on a drop of (%)"), { target: { value: "150" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/above 0 and below 100/);
    expect(server.seen.some((s) => s.method === "PATCH")).toBe(false);
  });

  it("says when to try 'check now' again after the hourly limit", async () => {
    await setup(item());
    fireEvent.click(screen.getByRole("button", { name: "Check now" }));
    expect((await screen.findByRole("alert")).textContent).toBe("5 manual checks per hour on the free plan.");
  });

  it("has no chart and no price for an item never checked successfully", async () => {
    await setup(item({ current_price: null, last_checked: null, availability: null }));
    expect(await screen.findByText(/No price history yet/)).toBeTruthy();
    expect(screen.getByText("Last price seen", { selector: "dt" }).nextElementSibling!.textContent)
      .toBe("No price seen yet");
  });
});
