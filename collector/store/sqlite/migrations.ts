/**
 * The schema as numbered steps. A database records the last step it ran in `user_version`;
 * opening it runs the steps after that, each in its own transaction. Never edit a step that has
 * shipped: add the next one.
 */
export const MIGRATIONS: string[] = [
  // 1: sites and events
  `
  CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    write_key_hash TEXT NOT NULL UNIQUE,
    read_token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT,
    referrer TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    gclid TEXT,
    fbclid TEXT,
    msclkid TEXT,
    li_fat_id TEXT,
    screen_width INTEGER,
    language TEXT,
    timezone TEXT,
    browser TEXT,
    os TEXT,
    device TEXT,
    is_bot INTEGER NOT NULL DEFAULT 0,
    props TEXT
  );
  CREATE INDEX events_by_site_time ON events (site_id, occurred_at);
  CREATE INDEX events_by_visitor ON events (site_id, visitor_id, occurred_at);
  `,
]
