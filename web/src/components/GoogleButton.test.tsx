// @vitest-environment jsdom
import { fireEvent, render, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GoogleButton } from "./GoogleButton";

afterEach(() => { delete window.google; });

describe("GoogleButton", () => {
  it("starts Google Identity Services with the client id and hands its ID token on", async () => {
    const gis = { initialize: vi.fn(), renderButton: vi.fn() };
    window.google = { accounts: { id: gis } };
    const onCredential = vi.fn();
    const { getByRole } = render(
      <GoogleButton clientId="123.apps.googleusercontent.com" onCredential={onCredential} />);
    expect(gis.initialize).not.toHaveBeenCalled();  // nothing of Google's before one asks
    fireEvent.click(getByRole("button", { name: "Continue with Google" }));
    await waitFor(() => expect(gis.renderButton).toHaveBeenCalledTimes(1));
    const options = gis.initialize.mock.calls[0][0];
    expect(options.client_id).toBe("123.apps.googleusercontent.com");
    options.callback({ credential: "id-token" });
    expect(onCredential).toHaveBeenCalledWith("id-token");
  });

  it("says so when Google cannot be reached", async () => {
    const { findByRole, getByRole } = render(<GoogleButton clientId="c" onCredential={() => {}} />);
    expect(document.head.querySelector('script[src*="accounts.google.com"]')).toBeNull();
    fireEvent.click(getByRole("button", { name: "Continue with Google" }));
    const script = document.head.querySelector<HTMLScriptElement>('script[src*="accounts.google.com/gsi/client"]');
    expect(script).not.toBeNull();
    script!.dispatchEvent(new Event("error"));
    expect((await findByRole("alert")).textContent).toBe("Google sign-in cannot be reached right now.");
  });
});
