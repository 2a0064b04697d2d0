//! The DynamoDB job table's key schema. One table holds sessions and objects:
//!
//! | item    | `pk`              | `sk`                           |
//! |---------|-------------------|--------------------------------|
//! | session | `USER#{user}`     | `SESSION#{session}`            |
//! | object  | `USER#{user}`     | `OBJECT#{session}#{object}`    |
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
pub const KEY_ATTRIBUTES: [(&str, &str); 4] =
    [(PARTITION_KEY, "S"), (SORT_KEY, "S"), (BY_USER_PARTITION, "S"), (BY_USER_SORT, "N")];
