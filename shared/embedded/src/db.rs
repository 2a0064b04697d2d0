//! The embedded SQLite database: opening it (WAL) and its schema.

use std::path::Path;
use std::sync::{Arc, Mutex};

use gen3d_ports::PortError;
use rusqlite::Connection;

pub(crate) type Db = Arc<Mutex<Connection>>;

/// Opens (creating if needed) the embedded database in WAL mode: committed transactions
/// survive the process being killed at any point.
pub fn open_database(path: &Path) -> Result<Connection, PortError> {
    let conn = Connection::open(path).map_err(|e| PortError::Unavailable(format!("open {}: {e}", path.display())))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA busy_timeout = 5000;
         CREATE TABLE IF NOT EXISTS messages (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             id TEXT NOT NULL UNIQUE,
             queue TEXT NOT NULL,
             body TEXT NOT NULL,
             visible_at INTEGER NOT NULL,
             receive_count INTEGER NOT NULL DEFAULT 0,
             receipt TEXT,
             sent_ms INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, visible_at, seq);
         CREATE TABLE IF NOT EXISTS records (
             pk TEXT NOT NULL,
             sk TEXT NOT NULL,
             kind TEXT NOT NULL,
             state TEXT NOT NULL,
             notified INTEGER NOT NULL,
             created_ms INTEGER NOT NULL,
             updated_ms INTEGER NOT NULL,
             body TEXT NOT NULL,
             PRIMARY KEY (pk, sk)
         );
         CREATE INDEX IF NOT EXISTS records_by_state ON records (kind, state, updated_ms);",
    )
    .map_err(|e| PortError::Internal(format!("initialise schema: {e}")))?;
    Ok(conn)
}

pub(crate) fn db_err(e: rusqlite::Error) -> PortError {
    match e {
        rusqlite::Error::SqliteFailure(ref f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            PortError::Unavailable(e.to_string())
        }
        other => PortError::Internal(other.to_string()),
    }
}

pub(crate) fn lock(db: &Db) -> Result<std::sync::MutexGuard<'_, Connection>, PortError> {
    db.lock().map_err(|_| PortError::Internal("database lock poisoned".into()))
}
