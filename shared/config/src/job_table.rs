//! The DynamoDB job table's key schema. One table holds sessions and objects:
//!
//! | item    | `pk`     | `sk`                          |
//! |---------|----------|-------------------------------|
//! | session | `{user}` | `session#{session}`           |
//! | object  | `{user}` | `object#{session}#{object}`   |
//!
//! (the same keys as the embedded SQLite store). Besides the keys an item holds `kind`,
//! `state`, `notified` (objects) and `body`, the record as JSON.
//!
//! The `by-user` index (`user_id`, `updated_ms`) lists a user's newest work first;
//! `expires_at` (epoch seconds) is the TTL attribute.

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
pub const BY_USER_INDEX: &str = "by-user";
pub const BY_USER_PARTITION: &str = "user_id";
pub const BY_USER_SORT: &str = "updated_ms";
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Key attributes with their DynamoDB scalar types (`S` or `N`).
pub const KEY_ATTRIBUTES: [(&str, &str); 4] = [(PARTITION_KEY, "S"), (SORT_KEY, "S"), (BY_USER_PARTITION, "S"), (BY_USER_SORT, "N")];

pub fn session_sort_key(session: &str) -> String {
    format!("session#{session}")
}

pub fn object_sort_key(session: &str, object: &str) -> String {
    format!("object#{session}#{object}")
}

/// The prefix of every object sort key of a session.
pub fn objects_prefix(session: &str) -> String {
    format!("object#{session}#")
}
