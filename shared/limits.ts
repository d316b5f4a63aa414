/** Every limit on input, in one place: the collector enforces them and the README documents them. */
export const LIMITS = {
  /** Bytes in one request body of POST /e. */
  bodyBytes: 64 * 1024,
  /** Events in one batch. */
  eventsPerBatch: 100,
  /** Characters in a URL or referrer. */
  urlLength: 2048,
  /** Characters in a page title. */
  titleLength: 512,
  /** Characters in an event name. */
  nameLength: 200,
  /** Characters in a site id, visitor id, language or time zone. */
  shortString: 64,
  /** Properties on one event (counting nested keys). */
  properties: 50,
  /** Depth of nested objects and arrays in properties. */
  propertyDepth: 3,
  /** Characters in a property key. */
  propertyKeyLength: 100,
  /** Characters in a string property value. */
  propertyValueLength: 1024,
  /** Engaged time one page view may report: a day. */
  maxEngagedMs: 24 * 3600 * 1000,
  /** How far an event's corrected time may lie before its arrival (older ones are rejected). */
  maxEventAgeMs: 7 * 24 * 3600 * 1000,
} as const

/** A ULID: 26 characters of Crockford's base 32. */
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/
