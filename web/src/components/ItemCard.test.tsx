// @vitest-environment jsdom
import { render, screen, within } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { item } from "../test-support/fakeServer";
import { ItemCard } from "./ItemCard";

const fact = (name: string) => {
  const term = screen.getByText(name, { selector: "dt" });
  return term.nextElementSibling!.textContent;
};

describe("ItemCard", () => {
  it("shows price and target in the item's currency, the distance and availability", () => {
    render(<ItemCard item={item({ currency: "GBP", current_price: "50.00", target_price: "40.00" })} />);
    expect(fact("Price")).toBe("£50.00");
    expect(fact("Target")).toBe("£40.00");
    expect(fact("To target")).toBe("+25% above");
    expect(fact("Availability")).toBe("In stock");
    const link = screen.getByRole("link", { name: "Kettle" });
    expect(link.getAttribute("href")).toBe("/items/i1");
  });

  it("shows no price, not a zero, before the first successful check", () => {
    render(<ItemCard item={item({ current_price: null, last_checked: null, availability: null })} />);
    expect(fact("Price")).toBe("No price seen yet");
    expect(fact("To target")).toBe("—");
    expect(fact("Availability")).toBe("Unknown");
    expect(within(screen.getByRole("article")).getByText("Not checked successfully yet")).toBeTruthy();
  });

  it("shows the change since tracking from the first price a check found", () => {
    render(<ItemCard item={item({ current_price: "45.00", first_price: "60.00" })} />);
    expect(fact("Since tracking")).toBe("-25%");
  });

  it("shows no change since tracking before a first price", () => {
    render(<ItemCard item={item({ first_price: null })} />);
    expect(fact("Since tracking")).toBe("—");
  });

  it("labels the price as the last one seen when the latest check was blocked", () => {
    render(<ItemCard item={item({ current_price: "49.99", last_outcome: "blocked", last_reason: "captcha",
                                  last_attempt_at: 1_700_000_900 })} />);
    expect(fact("Last price seen")).toBe("€49.99");
    expect(screen.queryByText("Price", { selector: "dt" })).toBeNull();
    expect(within(screen.getByRole("article")).getByText(/Blocked by the shop/)).toBeTruthy();
  });

  it("shows no price at all when the only checks were blocked", () => {
    render(<ItemCard item={item({ current_price: null, last_checked: null, first_price: null,
                                  last_outcome: "blocked", last_attempt_at: 1_700_000_900 })} />);
    expect(fact("Last price seen")).toBe("No price seen yet");
  });

  it("marks a reached target", () => {
    render(<ItemCard item={item({ current_price: "39.00", target_price: "40.00" })} />);
    expect(fact("To target")).toBe("Target reached (-2.5%)");
  });

  it("names an untitled item by its shop", () => {
    render(<ItemCard item={item({ title: null })} />);
    expect(screen.getByRole("heading").textContent).toBe("shop.example");
  });
});
