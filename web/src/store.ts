// The one store: who is signed in, their account and their tracked items, plus a
// notice for the live region. Pages keep only what belongs to one page (an item's
// history, a form's text) in component state.
import { useEffect, useState } from "preact/hooks";
import type { Api, Item, Me, PublicConfig, Session } from "./api/client";
import { ApiError, createApi, storedSessionHint } from "./api/client";

export interface Notice { kind: "info" | "error"; text: string }

export interface State {
  session: Session | null;
  /** true while a reload picks up the cookie's session (the page waits instead of asking
   *  to sign in) */
  resuming: boolean;
  /** the API's public config (sign-in methods, tiers); null until loaded */
  config: PublicConfig | null;
  /** the config could not be loaded */
  configError: boolean;
  me: Me | null;
  items: Item[];
  itemsCursor: string | null;
  itemsLoaded: boolean;
  notice: Notice | null;
}

export const initialState: State = {
  session: null, resuming: false, config: null, configError: false, me: null, items: [], itemsCursor: null, itemsLoaded: false,
  notice: null,
};

export type Store = ReturnType<typeof createStore>;

export function createStore(makeApi: (onSession: (s: Session | null) => void) => Api =
  (onSession) => createApi({ onSession, sessionHint: storedSessionHint() })) {
  let state: State = initialState;
  const listeners = new Set<() => void>();

  const get = (): State => state;
  const set = (patch: Partial<State>): void => {
    state = { ...state, ...patch };
    listeners.forEach((listener) => listener());
  };
  const subscribe = (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };

  const api = makeApi((session) => {
    // A session that ends (sign-out, refused refresh) takes the user's data with it.
    set(session ? { session } : { ...initialState, config: state.config });
  });

  const notify = (text: string, kind: Notice["kind"] = "info") => set({ notice: { kind, text } });
  const fail = (err: unknown) => notify(describeError(err), "error");

  const replaceItem = (item: Item) =>
    set({ items: state.items.some((i) => i.id === item.id)
      ? state.items.map((i) => (i.id === item.id ? item : i))
      : [item, ...state.items] });

  const actions = {
    async loadConfig(): Promise<void> {
      try { set({ config: await api.config(), configError: false }); } catch { set({ configError: true }); }
    },
    /** At start: the config, and the session the cookie still holds (a reload). */
    async start(): Promise<void> {
      set({ resuming: true });
      const config = actions.loadConfig();
      try { await api.resume(); } catch { /* no session: the sign-in page */ }
      set({ resuming: false });
      await config;
    },
    async loadMe(): Promise<void> {
      set({ me: await api.me() });
    },
    async loadItems(more = false): Promise<void> {
      const page = await api.listItems(more ? state.itemsCursor : null);
      set({ items: more ? [...state.items, ...page.items] : page.items,
            itemsCursor: page.next_cursor, itemsLoaded: true });
    },
    replaceItem,
    removeItem(itemId: string) {
      set({ items: state.items.filter((i) => i.id !== itemId) });
    },
    async signOut(): Promise<void> {
      try { await api.signOut(); } catch (err) { fail(err); }
      notify("You are signed out.");
    },
  };

  return { get, set, subscribe, api, notify, fail, ...actions };
}

/** Words for a person: the API's detail when it gave one, with what to do on 429. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const text = err.detail || err.title;
    if (err.status === 429 && err.retryAfter !== null) return `${text} Try again in ${err.retryAfter} s.`;
    return text;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Re-render when the selected part of the store changes. */
export function useStore<T>(store: Store, select: (state: State) => T): T {
  const [value, setValue] = useState(() => select(store.get()));
  useEffect(() => {
    const update = () => setValue(() => select(store.get()));
    update();
    return store.subscribe(update);
  }, [store]);
  return value;
}
