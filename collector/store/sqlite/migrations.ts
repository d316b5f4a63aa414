/**
 * People's form events: the condition of the index the forms report reads them by (migration 15
 * is made of it, so it never changes).
 */
export const FORM_EVENTS = "kind IN ('form_view', 'form_start', 'form_field', 'form_submit', 'form_abandon') AND is_bot = 0"

/** People's page views and downloads: the condition of the index the content and paths reports read them by (migration 21). */
export const PAGE_EVENTS = "kind IN ('pageview', 'file_download') AND is_bot = 0"

/**
 * Sessions that reached a stage, by the journey, the UTC day they began, the stage and where they
 * came from: the rows of the rollup the sources report counts whole days from (migration 17 is
 * made of it, so it never changes; the tests compare the rollup with it). A campaign is '' when
 * there is none, so that no NULL splits a key.
 */
export const SESSION_SOURCES_BY_DAY = `
  SELECT s.site_id, st.journey, s.started_at / 86400000, st.stage, s.channel, s.source, s.medium, coalesce(s.campaign, ''), count(*)
  FROM sessions s JOIN session_stages st ON st.session_id = s.id WHERE st.stage IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`

/**
 * Adds `sign` (1 or -1) to the rollup for each session and stage row `from` finds: `session` and
 * `stage` name them there (a trigger's NEW or OLD, or the table it reads the other from).
 */
const countSessions = (sign: 1 | -1, session: string, stage: string, from: string) => `
    INSERT INTO session_sources_by_day (site_id, journey, day, stage, channel, source, medium, campaign, sessions)
      SELECT ${session}.site_id, ${stage}.journey, ${session}.started_at / 86400000, ${stage}.stage, ${session}.channel,
        ${session}.source, ${session}.medium, coalesce(${session}.campaign, ''), ${sign}
      FROM ${from} AND ${stage}.stage IS NOT NULL
      ON CONFLICT (site_id, journey, day, stage, channel, source, medium, campaign) DO UPDATE SET sessions = sessions + excluded.sessions;`

/**
 * An entry's touch as attribution keys it (touchKey): a missing channel or source is 'unknown', and
 * no campaign is '' so that no NULL splits a key.
 */
export const touchOf = (entry: string) => [`coalesce(${entry}.channel, 'unknown')`, `coalesce(${entry}.source, 'unknown')`, `coalesce(${entry}.campaign, '')`]

/** The touch an owner first came by: their first stage's entry `first`'s, or when they have none, `entry`'s own. */
export const firstTouchOf = (first: string, entry: string) =>
  touchOf(entry).map((own, i) => `CASE WHEN ${first}.owner_id IS NULL THEN ${own} ELSE ${touchOf(first)[i]} END`)

/** Which stage is a journey's first, for a trigger's entry (journey_first_stages follows the configuration). */
const firstStageOf = (entry: string) => `(SELECT stage FROM journey_first_stages WHERE journey = ${entry}.journey)`

/** The entries of `entry`'s owner in its journey, as `alias` (in an AFTER trigger, `entry` among them once inserted). */
const ownersEntries = (alias: string, entry: string) =>
  `stage_entries ${alias} WHERE ${alias}.owner_type = ${entry}.owner_type AND ${alias}.owner_id = ${entry}.owner_id AND ${alias}.journey = ${entry}.journey`

/**
 * Adds `sign` to touches_by_day for each entry `entry` whose owner first came by `first` (an entry,
 * or a LEFT JOIN of one that may be missing), as `from` finds them.
 */
const countTouches = (sign: 1 | -1, entry: string, first: string, from: string) => `
    INSERT INTO touches_by_day (site_id, journey, stage, day, first_channel, first_source, first_campaign, channel, source, campaign, owners)
      SELECT ${entry}.site_id, ${entry}.journey, ${entry}.stage, ${entry}.entered_at / 86400000, ${firstTouchOf(first, entry).join(', ')},
        ${touchOf(entry).join(', ')}, ${sign}
      FROM ${from}
      ON CONFLICT (site_id, journey, stage, day, first_channel, first_source, first_campaign, channel, source, campaign) DO UPDATE SET owners = owners + excluded.owners;`

/** Adds `sign` to first_touch_flows_by_day for each entry `entry` of an owner whose first stage's entry is `first`, as `from` finds them. */
const countFlows = (sign: 1 | -1, first: string, entry: string, from: string) => `
    INSERT INTO first_touch_flows_by_day (site_id, journey, first_day, first_channel, stage, day, next_day, owners)
      SELECT ${first}.site_id, ${first}.journey, ${first}.entered_at / 86400000, coalesce(${first}.channel, 'unknown'), ${entry}.stage,
        ${entry}.entered_at / 86400000, coalesce(${entry}.next_at / 86400000, -1), ${sign}
      FROM ${from}
      ON CONFLICT (site_id, journey, first_day, first_channel, stage, day, next_day) DO UPDATE SET owners = owners + excluded.owners;`

/**
 * The rows of the two rollups of stage entries, counted from the entries (migration 18 is made of
 * them, so they never change; the tests compare the rollups with them). Companies' entries are left
 * out, as attribution and flows leave them out.
 */
export const TOUCHES_BY_DAY = `
  SELECT e.site_id, e.journey, e.stage, e.entered_at / 86400000, ${firstTouchOf('f', 'e').join(', ')}, ${touchOf('e').join(', ')}, count(*)
  FROM stage_entries e LEFT JOIN journey_first_stages j ON j.journey = e.journey
    LEFT JOIN stage_entries f ON f.owner_type = e.owner_type AND f.owner_id = e.owner_id AND f.journey = e.journey AND f.stage = j.stage
  WHERE e.owner_type != 'company' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`
export const FIRST_TOUCH_FLOWS_BY_DAY = `
  SELECT f.site_id, f.journey, f.entered_at / 86400000, coalesce(f.channel, 'unknown'), e.stage, e.entered_at / 86400000,
    coalesce(e.next_at / 86400000, -1), count(*)
  FROM journey_first_stages j JOIN stage_entries f ON f.journey = j.journey AND f.stage = j.stage
    JOIN stage_entries e ON e.owner_type = f.owner_type AND e.owner_id = f.owner_id AND e.journey = f.journey
  WHERE f.owner_type != 'company' GROUP BY 1, 2, 3, 4, 5, 6, 7`

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
  // 2: the identity graph: people, the visitor ids that are theirs, companies, traits
  `
  CREATE TABLE people (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    user_id TEXT,
    email TEXT,
    company_id TEXT,
    company_source TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX people_by_user_id ON people (site_id, user_id) WHERE user_id IS NOT NULL;
  CREATE UNIQUE INDEX people_by_email ON people (site_id, email) WHERE email IS NOT NULL;
  CREATE INDEX people_by_company ON people (company_id) WHERE company_id IS NOT NULL;
  CREATE TABLE identities (
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
  ) WITHOUT ROWID;
  CREATE INDEX identities_by_person ON identities (person_id);
  CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    group_id TEXT,
    domain TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX companies_by_group_id ON companies (site_id, group_id) WHERE group_id IS NOT NULL;
  CREATE UNIQUE INDEX companies_by_domain ON companies (site_id, domain) WHERE domain IS NOT NULL;
  CREATE TABLE traits (
    subject_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE identity_conflicts (
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    kept_person_id TEXT NOT NULL,
    refused_person_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  `,
  // 3: sessions and journey stages, kept current as events arrive
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    pageviews INTEGER NOT NULL,
    events INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    entry_url TEXT NOT NULL,
    entry_path TEXT NOT NULL,
    exit_path TEXT NOT NULL,
    referrer TEXT,
    source TEXT NOT NULL,
    medium TEXT NOT NULL,
    campaign TEXT,
    term TEXT,
    content TEXT,
    gclid TEXT,
    fbclid TEXT,
    msclkid TEXT,
    li_fat_id TEXT,
    channel TEXT NOT NULL,
    browser TEXT,
    os TEXT,
    device TEXT,
    engaged_ms INTEGER NOT NULL,
    engaged INTEGER NOT NULL,
    arrival_key TEXT NOT NULL
  );
  CREATE INDEX sessions_by_visitor ON sessions (site_id, visitor_id, started_at);
  CREATE INDEX sessions_by_time ON sessions (site_id, started_at);
  CREATE TABLE session_stages (
    session_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    stage TEXT,
    score INTEGER NOT NULL,
    progress TEXT NOT NULL,
    PRIMARY KEY (session_id, journey)
  ) WITHOUT ROWID;
  CREATE TABLE stage_entries (
    site_id TEXT NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    stage TEXT NOT NULL,
    entered_at INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    channel TEXT,
    campaign TEXT,
    page TEXT,
    PRIMARY KEY (owner_type, owner_id, journey, stage)
  ) WITHOUT ROWID;
  CREATE INDEX stage_entries_by_site ON stage_entries (site_id, journey, stage, entered_at);
  CREATE TABLE stage_transitions (
    site_id TEXT NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    at INTEGER NOT NULL,
    session_id TEXT NOT NULL
  );
  CREATE INDEX stage_transitions_by_owner ON stage_transitions (owner_type, owner_id, journey);
  CREATE INDEX stage_transitions_by_site ON stage_transitions (site_id, journey, at);
  CREATE TABLE owner_stages (
    site_id TEXT NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    stage TEXT,
    score INTEGER NOT NULL,
    PRIMARY KEY (owner_type, owner_id, journey)
  ) WITHOUT ROWID;
  CREATE INDEX owner_stages_by_site ON owner_stages (site_id, journey, owner_type, stage);
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE VIEW session_details AS
    SELECT sessions.*, sessions.ended_at - sessions.started_at AS duration_ms, identities.person_id, people.company_id
    FROM sessions
    LEFT JOIN identities ON identities.site_id = sessions.site_id AND identities.visitor_id = sessions.visitor_id
    LEFT JOIN people ON people.id = identities.person_id;
  `,
  // 4: sessions and stages are brought up to date just after the events' commit; these rows,
  // written in that commit, say what is still to do, and survive a crash
  `
  CREATE TABLE pending_visitors (
    site_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    from_at INTEGER NOT NULL,
    from_id TEXT NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
  ) WITHOUT ROWID;
  CREATE TABLE pending_owners (
    site_id TEXT NOT NULL,
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    PRIMARY KEY (owner_type, owner_id)
  ) WITHOUT ROWID;
  `,
  // 5: the user id a server-side sender (the Segment-spec API) gave with an event
  `
  ALTER TABLE events ADD COLUMN user_id TEXT;
  `,
  // 6: per-site settings: an admin token (erasure), raw-event retention, privacy signals
  `
  ALTER TABLE sites ADD COLUMN admin_token_hash TEXT;
  ALTER TABLE sites ADD COLUMN retention_days INTEGER;
  ALTER TABLE sites ADD COLUMN honor_privacy_signals INTEGER NOT NULL DEFAULT 0;
  `,
  // 7: reports read every owner's stage entries of a journey, owner by owner
  `
  CREATE INDEX stage_entries_by_owner ON stage_entries (site_id, journey, owner_type, owner_id, stage);
  `,
  // 8: reading depth and engaged time, merged into each page view as the tag reports leaving it;
  // a report that arrives before its page view (whose batch is being retried) waits here for it
  `
  ALTER TABLE events ADD COLUMN scroll_depth INTEGER;
  ALTER TABLE events ADD COLUMN engaged_ms INTEGER;
  CREATE TABLE early_engagements (
    site_id TEXT NOT NULL,
    pageview_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    scroll_depth INTEGER NOT NULL,
    engaged_ms INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, pageview_id)
  ) WITHOUT ROWID;
  `,
  // 9: stage alerts. Hooks (webhooks per site and journey); an outbox of alerts, written in the
  // commit that enters the stage so a crash loses none, whose UNIQUE (hook, subject) key makes a
  // stage entry written again (a refold, a rebuild) alert no second time; and every attempt
  `
  CREATE TABLE alert_hooks (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    journey TEXT NOT NULL,
    stage TEXT,
    owner_type TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    stalled_days INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX alert_hooks_by_journey ON alert_hooks (site_id, journey, kind);
  CREATE TABLE alert_outbox (
    id TEXT PRIMARY KEY,
    hook_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    owner_type TEXT,
    owner_id TEXT,
    stage TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    delivered_at INTEGER,
    gave_up_at INTEGER,
    UNIQUE (hook_id, subject)
  );
  CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
  CREATE INDEX alert_outbox_by_owner ON alert_outbox (owner_type, owner_id) WHERE owner_id IS NOT NULL;
  CREATE TABLE alert_deliveries (
    outbox_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
  ) WITHOUT ROWID;
  CREATE INDEX alert_deliveries_by_time ON alert_deliveries (at);
  `,
  // 10: a stage transition is the stage entry it moved the owner into (the furthest stage of one
  // jump, the skipped ones entered with it), so it is kept on that entry, not in a table and two
  // indexes of its own. Copied across rather than recomputed: a site with retention may no longer
  // hold the events its older stages were made from.
  `
  ALTER TABLE stage_entries ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE stage_entries ADD COLUMN moved_from TEXT;
  UPDATE stage_entries SET moved = 1, moved_from = t.from_stage
    FROM stage_transitions t
    WHERE t.owner_type = stage_entries.owner_type AND t.owner_id = stage_entries.owner_id
      AND t.journey = stage_entries.journey AND t.to_stage = stage_entries.stage;
  DROP TABLE stage_transitions;
  CREATE INDEX stage_moves_by_site ON stage_entries (site_id, journey, entered_at) WHERE moved = 1;
  `,
  // 11: the owner index holds the entry's time, so a funnel's one row per owner (queryStageTimes)
  // is grouped from the index alone, never reading the table's rows.
  `
  DROP INDEX stage_entries_by_owner;
  CREATE INDEX stage_entries_by_owner ON stage_entries (site_id, journey, owner_type, owner_id, stage, entered_at);
  `,
  // 12: sessions by time hold where each came from and its id, so the sessions of a range are
  // counted by source (countSessionSources) from the index alone; its first columns are the old
  // index's, so every read that used that one uses this. A million events' sessions were counted
  // in 1.6 s reading the table's rows, 0.8 s from this index.
  `
  DROP INDEX sessions_by_time;
  CREATE INDEX sessions_by_time ON sessions (site_id, started_at, channel, source, medium, campaign, id);
  `,
  // 13: each stage entry holds when its owner entered the journey's next stage, and entries by
  // site lead with the kind of owner and hold both times: the funnel counts each stage's entrants,
  // movers and stalled people from this index alone, never pairing entries owner by owner. The
  // times depend on the journey's stage order, so the stages are rebuilt once (the journeys' mark
  // is cleared) when the store next opens.
  `
  ALTER TABLE stage_entries ADD COLUMN next_at INTEGER;
  DROP INDEX stage_entries_by_site;
  CREATE INDEX stage_entries_by_site ON stage_entries (site_id, journey, owner_type, stage, entered_at, next_at);
  DELETE FROM meta WHERE key = 'journeys';
  `,
  // 14: each session holds whose it is (the person of its visitor id, and that person's company),
  // kept by triggers as identities link, move and go, and as people's companies change; a session
  // stored later looks them up as it is written. So the people and companies who came in a range,
  // and who came last, are read from one index of known people's sessions by end, not found visitor
  // by visitor (at ten million events, 2.1 s for the people of 30 days). One index, not one by start
  // and one by end: sessions are rewritten as they grow, and the two cost a quarter of the intake
  // with sessions kept current (200,000 events: 8,779 events/s without them, 6,697 with).
  `
  ALTER TABLE sessions ADD COLUMN person_id TEXT;
  ALTER TABLE sessions ADD COLUMN company_id TEXT;
  UPDATE sessions SET person_id = i.person_id, company_id = p.company_id
    FROM identities i LEFT JOIN people p ON p.id = i.person_id
    WHERE i.site_id = sessions.site_id AND i.visitor_id = sessions.visitor_id;
  CREATE INDEX sessions_of_people_by_end ON sessions (site_id, ended_at, started_at, person_id, company_id) WHERE person_id IS NOT NULL;
  DROP VIEW session_details;
  CREATE VIEW session_details AS SELECT sessions.*, sessions.ended_at - sessions.started_at AS duration_ms FROM sessions;
  CREATE TRIGGER sessions_follow_new_identity AFTER INSERT ON identities BEGIN
    UPDATE sessions SET person_id = NEW.person_id, company_id = (SELECT company_id FROM people WHERE id = NEW.person_id)
      WHERE site_id = NEW.site_id AND visitor_id = NEW.visitor_id;
  END;
  CREATE TRIGGER sessions_follow_moved_identity AFTER UPDATE OF person_id ON identities BEGIN
    UPDATE sessions SET person_id = NEW.person_id, company_id = (SELECT company_id FROM people WHERE id = NEW.person_id)
      WHERE site_id = NEW.site_id AND visitor_id = NEW.visitor_id;
  END;
  CREATE TRIGGER sessions_follow_gone_identity AFTER DELETE ON identities BEGIN
    UPDATE sessions SET person_id = NULL, company_id = NULL WHERE site_id = OLD.site_id AND visitor_id = OLD.visitor_id;
  END;
  CREATE TRIGGER sessions_follow_company AFTER UPDATE OF company_id ON people BEGIN
    UPDATE sessions SET company_id = NEW.company_id
      WHERE (site_id, visitor_id) IN (SELECT site_id, visitor_id FROM identities WHERE person_id = NEW.id);
  END;
  `,
  // 15: people's form events by time, so the forms report reads those of a range and no others
  // (at ten million events over 30 days, a third of the events there). Its condition is written
  // the same in the query that uses it (queryFormEvents), as SQLite requires of a partial index.
  `
  CREATE INDEX events_of_forms_by_time ON events (site_id, occurred_at) WHERE ${FORM_EVENTS};
  `,
  // 16: each owner's furthest entries (no next stage's time yet), by stage and time: the stalled of
  // the people and companies lists, read without passing the entries of those who moved on (at ten
  // million events, each stage everyone had left still cost 70 ms to scan, and the decision stage
  // twice its stalled). next_at is in the key, always NULL, so that the index covers the query's
  // own next_at IS NULL (which SQLite needs to choose a partial index) without reading the table.
  `
  CREATE INDEX stage_entries_furthest ON stage_entries (site_id, journey, owner_type, stage, entered_at, next_at) WHERE next_at IS NULL;
  `,
  // 17: sessions by day, stage and source, kept by triggers as sessions and their stages are
  // written, moved and deleted: the sources report counts whole days from these few rows and reads
  // only a range's partial first and last days from the sessions. At ten million events, counting
  // 30 days of sessions from the index by time took about 0.8 s. A session counts while both its
  // row and its stage in the journey exist, whichever is written or deleted first. The triggers on
  // stages skip what changes no count (most rows are written with no stage, then given one).
  `
  CREATE TABLE session_sources_by_day (
    site_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    day INTEGER NOT NULL,
    stage TEXT NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    medium TEXT NOT NULL,
    campaign TEXT NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (site_id, journey, day, stage, channel, source, medium, campaign)
  ) WITHOUT ROWID;
  INSERT INTO session_sources_by_day ${SESSION_SOURCES_BY_DAY};
  CREATE TRIGGER session_sources_new_stage AFTER INSERT ON session_stages WHEN NEW.stage IS NOT NULL BEGIN
    ${countSessions(1, 's', 'NEW', 'sessions s WHERE s.id = NEW.session_id')}
  END;
  CREATE TRIGGER session_sources_gone_stage AFTER DELETE ON session_stages WHEN OLD.stage IS NOT NULL BEGIN
    ${countSessions(-1, 's', 'OLD', 'sessions s WHERE s.id = OLD.session_id')}
  END;
  CREATE TRIGGER session_sources_moved_stage AFTER UPDATE OF session_id, journey, stage ON session_stages
    WHEN OLD.stage IS NOT NEW.stage OR OLD.session_id != NEW.session_id OR OLD.journey != NEW.journey BEGIN
    ${countSessions(-1, 's', 'OLD', 'sessions s WHERE s.id = OLD.session_id')}
    ${countSessions(1, 's', 'NEW', 'sessions s WHERE s.id = NEW.session_id')}
  END;
  CREATE TRIGGER session_sources_new_session AFTER INSERT ON sessions BEGIN
    ${countSessions(1, 'NEW', 'st', 'session_stages st WHERE st.session_id = NEW.id')}
  END;
  CREATE TRIGGER session_sources_gone_session AFTER DELETE ON sessions BEGIN
    ${countSessions(-1, 'OLD', 'st', 'session_stages st WHERE st.session_id = OLD.id')}
  END;
  CREATE TRIGGER session_sources_moved_session AFTER UPDATE OF id, site_id, started_at, channel, source, medium, campaign ON sessions BEGIN
    ${countSessions(-1, 'OLD', 'st', 'session_stages st WHERE st.session_id = OLD.id')}
    ${countSessions(1, 'NEW', 'st', 'session_stages st WHERE st.session_id = NEW.id')}
  END;
  `,
  // 18: the attribution and flows of the sources report from two rollups by day of stage entries,
  // kept by triggers as entries are written and deleted (an owner's entries are rewritten whole when
  // their stages change, so nothing updates one in place). At ten million events their counts over
  // 30 days took 3.3 s from the entries, most of it pairing each entry with its owner's first.
  // - Each entry holds its session's source, as it holds its channel and campaign: a session's
  //   source never changes under the same id (both come from its first event), but the session may
  //   be gone by the time its entry is deleted, and the count must take away what it added.
  // - journey_first_stages names each journey's first stage (written with every rebuild, which a
  //   change of configuration brings); the owner's entry there is the touch that first brought them.
  //   Filled here from the configuration the stored stages were made under, kept in meta.
  // - touches_by_day: entries by stage, day, the owner's first touch and the entry's own; an entry
  //   keyed by its owner's first touch, or by its own while the owner has no first-stage entry.
  // - first_touch_flows_by_day: every entry of an owner who has a first-stage entry, by that entry's
  //   day and channel and the entry's stage, day and the day of the next stage's entry (-1: none
  //   yet). Owners enter stages in order, so an entry is the owner's furthest at a day's start
  //   exactly when it was entered before and the next was not: one entry an owner.
  // - The two are kept by two triggers on insert and two on delete: one for an owner's first-stage entry,
  //   which every other entry of theirs is keyed by, and one for the others.
  `
  CREATE TABLE journey_first_stages (journey TEXT PRIMARY KEY, stage TEXT NOT NULL);
  INSERT INTO journey_first_stages SELECT j.value ->> '$.name', j.value ->> '$.stages[0].name'
    FROM meta, json_each(meta.value, '$.journeys') j WHERE meta.key = 'journeys' AND json_valid(meta.value);
  ALTER TABLE stage_entries ADD COLUMN source TEXT;
  UPDATE stage_entries SET source = s.source FROM sessions s WHERE s.id = stage_entries.session_id;
  CREATE TABLE touches_by_day (
    site_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    stage TEXT NOT NULL,
    day INTEGER NOT NULL,
    first_channel TEXT NOT NULL,
    first_source TEXT NOT NULL,
    first_campaign TEXT NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    campaign TEXT NOT NULL,
    owners INTEGER NOT NULL,
    PRIMARY KEY (site_id, journey, stage, day, first_channel, first_source, first_campaign, channel, source, campaign)
  ) WITHOUT ROWID;
  INSERT INTO touches_by_day ${TOUCHES_BY_DAY};
  CREATE TABLE first_touch_flows_by_day (
    site_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    first_day INTEGER NOT NULL,
    first_channel TEXT NOT NULL,
    stage TEXT NOT NULL,
    day INTEGER NOT NULL,
    next_day INTEGER NOT NULL,
    owners INTEGER NOT NULL,
    PRIMARY KEY (site_id, journey, first_day, first_channel, stage, day, next_day)
  ) WITHOUT ROWID;
  INSERT INTO first_touch_flows_by_day ${FIRST_TOUCH_FLOWS_BY_DAY};
  CREATE TRIGGER touches_new_first_entry AFTER INSERT ON stage_entries
    WHEN NEW.owner_type != 'company' AND NEW.stage = ${firstStageOf('NEW')} BEGIN
    ${countTouches(1, 'NEW', 'NEW', '(SELECT 1) WHERE true')}
    -- The owner's other entries now count by its touch, and all of them as its flows.
    ${countTouches(-1, 'e', 'e', `${ownersEntries('e', 'NEW')} AND e.stage != NEW.stage`)}
    ${countTouches(1, 'e', 'NEW', `${ownersEntries('e', 'NEW')} AND e.stage != NEW.stage`)}
    ${countFlows(1, 'NEW', 'e', ownersEntries('e', 'NEW'))}
  END;
  CREATE TRIGGER touches_new_later_entry AFTER INSERT ON stage_entries
    WHEN NEW.owner_type != 'company' AND NEW.stage IS NOT ${firstStageOf('NEW')} BEGIN
    ${countTouches(1, 'NEW', 'f', `(SELECT 1) LEFT JOIN stage_entries f ON f.owner_type = NEW.owner_type AND f.owner_id = NEW.owner_id
        AND f.journey = NEW.journey AND f.stage = ${firstStageOf('NEW')} WHERE true`)}
    ${countFlows(1, 'f', 'NEW', `${ownersEntries('f', 'NEW')} AND f.stage = ${firstStageOf('NEW')}`)}
  END;
  CREATE TRIGGER touches_gone_first_entry AFTER DELETE ON stage_entries
    WHEN OLD.owner_type != 'company' AND OLD.stage = ${firstStageOf('OLD')} BEGIN
    ${countTouches(-1, 'OLD', 'OLD', '(SELECT 1) WHERE true')}
    -- The owner's other entries count by their own touch again, and none of them as its flows.
    ${countTouches(-1, 'e', 'OLD', ownersEntries('e', 'OLD'))}
    ${countTouches(1, 'e', 'e', ownersEntries('e', 'OLD'))}
    ${countFlows(-1, 'OLD', 'e', ownersEntries('e', 'OLD'))}
    ${countFlows(-1, 'OLD', 'OLD', '(SELECT 1) WHERE true')}
  END;
  CREATE TRIGGER touches_gone_later_entry AFTER DELETE ON stage_entries
    WHEN OLD.owner_type != 'company' AND OLD.stage IS NOT ${firstStageOf('OLD')} BEGIN
    ${countTouches(-1, 'OLD', 'f', `(SELECT 1) LEFT JOIN stage_entries f ON f.owner_type = OLD.owner_type AND f.owner_id = OLD.owner_id
        AND f.journey = OLD.journey AND f.stage = ${firstStageOf('OLD')} WHERE true`)}
    ${countFlows(-1, 'f', 'OLD', `${ownersEntries('f', 'OLD')} AND f.stage = ${firstStageOf('OLD')}`)}
  END;
  `,
  // 19: two dashboard views read less at ten million events.
  // - The forms view reads people's form events from their index alone, which now holds the columns
  //   the fold reads: 30 days of them took about 0.8 s with a lookup of each row in the table, and
  //   0.26 s without.
  // - The funnel counts the stalled (known people entered before a threshold, not moved on by the
  //   report's moment) from the furthest entries and from those whose next stage was entered at
  //   that moment or later, by its time: before, it read every entry of each stage to find them.
  //   The kind of owner is in the key, not the condition: a partial index whose condition names a
  //   column's value has SQLite prepare again, on every run, each statement that binds that column
  //   (a delete of an owner's entries, with its triggers, took 120 µs instead of 6).
  `
  DROP INDEX events_of_forms_by_time;
  CREATE INDEX events_of_forms_by_time ON events (site_id, occurred_at, kind, name, props) WHERE ${FORM_EVENTS};
  CREATE INDEX stage_entries_by_next ON stage_entries (site_id, journey, owner_type, stage, next_at, entered_at) WHERE next_at IS NOT NULL;
  `,
  // 20: known companies' sessions by company, so a company's activity (first and last seen, sessions,
  // events) is one range of an index rather than every session of each of its people through their
  // identities: at ten million events, the 50 rows of a page of the companies list took about 160 ms
  // so. sessions.company_id is kept by the triggers of migration 14.
  `
  CREATE INDEX sessions_of_companies ON sessions (site_id, company_id, started_at, ended_at, events) WHERE company_id IS NOT NULL;
  `,
  // 21: people's page views and downloads by time, with the columns the content and paths reports
  // fold, so that those reports read the index alone: at ten million events, the 562,357 page views
  // of the content report's 60 days took 7.1 s with a lookup of each row in the table, and 1.8 s
  // without. It costs 43 bytes an event on disk there (10.49 GB to 10.92 GB).
  `
  CREATE INDEX events_of_pages_by_time ON events (site_id, occurred_at, kind, path, name, visitor_id, scroll_depth, engaged_ms) WHERE ${PAGE_EVENTS};
  `,
  // 22: known people's sessions by person, as migration 20 has them by company, so a person's
  // sessions are one range of an index rather than a seek of sessions_by_visitor for each of their
  // visitor ids (active people have a hundred and more): at ten million events, when each of the
  // 38,745 people of 30 days first came took about 2 s so. sessions.person_id is kept by the
  // triggers of migration 14. Sessions are rewritten as they grow, so every index of them is written
  // again: on 100,000 generated events with sessions kept current, intake with this index was 0.98,
  // 0.98 and 1.03 of intake without it; with ended_at and events in it too, 0.97, 0.97 and 0.96.
  `
  CREATE INDEX sessions_of_people ON sessions (site_id, person_id, started_at) WHERE person_id IS NOT NULL;
  `,
]
