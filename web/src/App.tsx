// The shell: skip link, header with navigation and sign-out, the page for the route, and a
// live region for notices. Focus moves to the new page's heading on navigation.
import { useEffect, useRef } from "preact/hooks";
import { Account } from "./pages/Account";
import { Alerts } from "./pages/Alerts";
import { ItemDetail } from "./pages/ItemDetail";
import { Items } from "./pages/Items";
import { Orders } from "./pages/Orders";
import { SignIn } from "./pages/SignIn";
import { interceptLinks, type Route, useRoute } from "./router";
import { type Store, useStore } from "./store";

const NAV: [Route["name"], string, string][] = [
  ["items", "/", "Items"], ["alerts", "/alerts", "Alerts"], ["orders", "/orders", "Orders"],
  ["account", "/account", "Account"],
];

function Page({ store, route }: { store: Store; route: Route }) {
  switch (route.name) {
    case "items": return <Items store={store} />;
    case "item": return <ItemDetail store={store} id={route.id} />;
    case "alerts": return <Alerts store={store} />;
    case "orders": return <Orders store={store} />;
    case "account": return <Account store={store} />;
    case "notFound":
      return <section><h1 tabIndex={-1}>Page not found</h1><p><a href="/">Go to your items</a></p></section>;
  }
}

export function App({ store }: { store: Store }) {
  const session = useStore(store, (s) => s.session);
  const resuming = useStore(store, (s) => s.resuming);
  const notice = useStore(store, (s) => s.notice);
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = session
      ? `${NAV.find(([name]) => name === route.name)?.[2] ?? "Item"} · AutoBuy Guard` : "Sign in · AutoBuy Guard";
    if (first.current) { first.current = false; return; }
    store.set({ notice: null });
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [route, session !== null]);

  return (
    <div class="app" onClick={interceptLinks}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/">AutoBuy Guard</a>
        {session && (
          <nav aria-label="Main">
            <ul>
              {NAV.map(([name, href, label]) => (
                <li key={name}>
                  <a href={href} aria-current={route.name === name ||
                    (name === "items" && route.name === "item") ? "page" : undefined}>{label}</a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {session && (
          <div class="who">
            <span class="muted email">{session.user.email}</span>
            <button type="button" onClick={() => store.signOut()}>Sign out</button>
          </div>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <div class={notice ? `notice notice-${notice.kind}` : "notice"} role="status" aria-live="polite">
          {notice?.text}
        </div>
        {session ? <Page store={store} route={route} />
          : resuming ? <p class="muted" aria-busy="true">Restoring your session…</p>
          : <SignIn store={store} />}
      </main>
    </div>
  );
}
