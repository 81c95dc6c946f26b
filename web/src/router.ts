// A few routes on the History API: same-origin links are handled here without a reload
// (the host serves index.html for every path that is not a file: SPA routing).
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "items" }
  | { name: "item"; id: string }
  | { name: "alerts" }
  | { name: "orders" }
  | { name: "account" }
  | { name: "notFound" };

export function match(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  if (path === "/" || path === "/items") return { name: "items" };
  const item = /^\/items\/([^/]+)$/.exec(path);
  if (item) return { name: "item", id: decodeURIComponent(item[1]) };
  if (path === "/alerts") return { name: "alerts" };
  if (path === "/orders") return { name: "orders" };
  if (path === "/account") return { name: "account" };
  return { name: "notFound" };
}

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
}

/** Follow plain left-clicks on same-origin links through navigate(). */
export function interceptLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
      event.shiftKey || event.altKey) return;
  const link = (event.target as Element | null)?.closest?.("a");
  if (!link || link.target || link.hasAttribute("download") || link.origin !== location.origin) return;
  if (link.hash && link.pathname === location.pathname) return; // in-page (skip link)
  event.preventDefault();
  navigate(link.pathname + link.search);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => match(location.pathname));
  useEffect(() => {
    const update = () => setRoute(match(location.pathname));
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return route;
}
