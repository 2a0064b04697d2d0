//! The `JobStore` port on SQLite, shaped like the DynamoDB table.

use std::sync::Arc;

use async_trait::async_trait;
use gen3d_domain::{DisplayName, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState, UserId};
use gen3d_ports::{JobStore, PortError, Stalled, Transition};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::db::{Db, db_err, lock};

/// Session and object records in SQLite, keyed like the DynamoDB table
/// (`pk` = user, `sk` = `session#{id}` or `object#{session}#{object}`), with every
/// update conditional on the stored state.
pub struct SqliteJobStore {
    db: Db,
}

fn session_sk(session: &SessionId) -> String {
    format!("session#{session}")
}

fn object_sk(session: &SessionId, object: &ObjectId) -> String {
    format!("object#{session}#{object}")
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, PortError> {
    serde_json::to_string(v).map_err(|e| PortError::Internal(format!("serialise record: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, PortError> {
    serde_json::from_str(s).map_err(|e| PortError::Internal(format!("corrupt record: {e}")))
}

fn state_name<T: serde::Serialize>(state: &T) -> Result<String, PortError> {
    match serde_json::to_value(state) {
        Ok(Value::String(s)) => Ok(s),
        _ => Err(PortError::Internal("state is not a string".into())),
    }
}

impl SqliteJobStore {
    pub fn new(conn: Connection) -> Self {
        Self { db: Arc::new(std::sync::Mutex::new(conn)) }
    }

    #[allow(clippy::too_many_arguments)] // one column each; called from two places
    fn insert(&self, pk: &str, sk: &str, kind: &str, state: &str, created: u64, updated: u64, body: &str) -> Result<(), PortError> {
        let r = lock(&self.db)?.execute(
            "INSERT INTO records (pk, sk, kind, state, notified, created_ms, updated_ms, body) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
            params![pk, sk, kind, state, created as i64, updated as i64, body],
        );
        match r {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(PortError::Conflict(format!("{kind} {sk} already exists")))
            }
            Err(e) => Err(db_err(e)),
        }
    }

    fn get(&self, pk: &str, sk: &str) -> Result<Option<String>, PortError> {
        lock(&self.db)?.query_row("SELECT body FROM records WHERE pk = ?1 AND sk = ?2", params![pk, sk], |r| r.get(0)).optional().map_err(db_err)
    }

    fn query(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<String>, PortError> {
        let conn = lock(&self.db)?;
        let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
        stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(db_err)?.collect::<Result<Vec<_>, _>>().map_err(db_err)
    }

    /// DELETE ... WHERE state = expected; 1 row = removed.
    fn remove(&self, pk: &str, sk: &str, expected: &str) -> Result<bool, PortError> {
        let n = lock(&self.db)?.execute("DELETE FROM records WHERE pk = ?1 AND sk = ?2 AND state = ?3", params![pk, sk, expected]).map_err(db_err)?;
        Ok(n == 1)
    }

    /// Sets the body's `name` (JSON null clears it); 1 row = renamed.
    fn rename(&self, pk: &str, sk: &str, name: Option<&DisplayName>) -> Result<bool, PortError> {
        let n = lock(&self.db)?
            .execute(
                "UPDATE records SET body = json_set(body, '$.name', ?3) WHERE pk = ?1 AND sk = ?2",
                params![pk, sk, name.map(DisplayName::as_str)],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }

    /// UPDATE ... WHERE state = expected [AND notified = n]; 1 row = applied.
    #[allow(clippy::too_many_arguments)] // one column each; called from two places
    fn conditional(
        &self,
        pk: &str,
        sk: &str,
        expected: &str,
        notified: Option<bool>,
        next_state: &str,
        next_notified: bool,
        updated: u64,
        body: &str,
    ) -> Result<bool, PortError> {
        let n = lock(&self.db)?
            .execute(
                // The stored name stays (renames go through `rename`, not the pipeline).
                "UPDATE records SET state = ?1, notified = ?2, updated_ms = ?3, body = json_set(?4, '$.name', json_extract(body, '$.name'))
                 WHERE pk = ?5 AND sk = ?6 AND state = ?7 AND (?8 IS NULL OR notified = ?8)",
                params![next_state, next_notified, updated as i64, body, pk, sk, expected, notified],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }
}

#[async_trait]
impl JobStore for SqliteJobStore {
    async fn create_session(&self, record: &SessionRecord) -> Result<(), PortError> {
        self.insert(
            record.user.as_str(),
            &session_sk(&record.session),
            "session",
            &state_name(&record.state)?,
            record.created_ms,
            record.updated_ms,
            &to_json(record)?,
        )
    }

    async fn session(&self, user: &UserId, session: &SessionId) -> Result<Option<SessionRecord>, PortError> {
        self.get(user.as_str(), &session_sk(session))?.map(|b| from_json(&b)).transpose()
    }

    async fn sessions(&self, user: &UserId) -> Result<Vec<SessionRecord>, PortError> {
        self.query("SELECT body FROM records WHERE pk = ?1 AND kind = 'session' ORDER BY created_ms DESC, sk", &[&user.as_str()])?
            .iter()
            .map(|b| from_json(b))
            .collect()
    }

    async fn update_session(&self, expected: SessionState, next: &SessionRecord) -> Result<Transition<SessionRecord>, PortError> {
        let pk = next.user.as_str();
        let sk = session_sk(&next.session);
        if self.conditional(pk, &sk, &state_name(&expected)?, None, &state_name(&next.state)?, false, next.updated_ms, &to_json(next)?)? {
            return Ok(Transition::Applied(next.clone()));
        }
        let current = self.get(pk, &sk)?.ok_or_else(|| PortError::NotFound(format!("session {}", next.session)))?;
        Ok(Transition::Stale(from_json(&current)?))
    }

    async fn delete_session(&self, user: &UserId, session: &SessionId, expected: SessionState) -> Result<bool, PortError> {
        self.remove(user.as_str(), &session_sk(session), &state_name(&expected)?)
    }

    async fn delete_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, expected: ObjectState) -> Result<bool, PortError> {
        self.remove(user.as_str(), &object_sk(session, object), &state_name(&expected)?)
    }

    async fn create_object(&self, record: &ObjectRecord) -> Result<(), PortError> {
        self.insert(
            record.user.as_str(),
            &object_sk(&record.session, &record.object),
            "object",
            &state_name(&record.state)?,
            record.created_ms,
            record.updated_ms,
            &to_json(record)?,
        )
    }

    async fn object(&self, user: &UserId, session: &SessionId, object: &ObjectId) -> Result<Option<ObjectRecord>, PortError> {
        self.get(user.as_str(), &object_sk(session, object))?.map(|b| from_json(&b)).transpose()
    }

    async fn objects(&self, user: &UserId, session: &SessionId) -> Result<Vec<ObjectRecord>, PortError> {
        let prefix = format!("object#{session}#%");
        self.query("SELECT body FROM records WHERE pk = ?1 AND sk LIKE ?2 ORDER BY created_ms, sk", &[&user.as_str(), &prefix])?
            .iter()
            .map(|b| from_json(b))
            .collect()
    }

    async fn user_objects(&self, user: &UserId) -> Result<Vec<ObjectRecord>, PortError> {
        self.query("SELECT body FROM records WHERE pk = ?1 AND kind = 'object' ORDER BY created_ms, sk", &[&user.as_str()])?
            .iter()
            .map(|b| from_json(b))
            .collect()
    }

    async fn update_object(
        &self,
        expected: ObjectState,
        expected_notified: bool,
        next: &ObjectRecord,
    ) -> Result<Transition<ObjectRecord>, PortError> {
        let pk = next.user.as_str();
        let sk = object_sk(&next.session, &next.object);
        if self.conditional(
            pk,
            &sk,
            &state_name(&expected)?,
            Some(expected_notified),
            &state_name(&next.state)?,
            next.notified,
            next.updated_ms,
            &to_json(next)?,
        )? {
            return Ok(Transition::Applied(next.clone()));
        }
        let current = self.get(pk, &sk)?.ok_or_else(|| PortError::NotFound(format!("object {}", next.object)))?;
        Ok(Transition::Stale(from_json(&current)?))
    }

    async fn rename_session(&self, user: &UserId, session: &SessionId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.rename(user.as_str(), &session_sk(session), name)
    }

    async fn rename_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.rename(user.as_str(), &object_sk(session, object), name)
    }

    async fn failed_objects(&self, limit: usize) -> Result<Vec<ObjectRecord>, PortError> {
        self.query("SELECT body FROM records WHERE kind = 'object' AND state = 'failed' ORDER BY updated_ms DESC LIMIT ?1", &[&(limit as i64)])?
            .iter()
            .map(|b| from_json(b))
            .collect()
    }

    async fn stalled(&self, before_ms: u64, limit: usize) -> Result<Stalled, PortError> {
        let (before, limit) = (before_ms as i64, limit as i64);
        let sessions = self.query(
            "SELECT body FROM records WHERE kind = 'session' AND updated_ms < ?1 \
             AND (state IN ('uploaded', 'embedding') OR (state = 'failed' AND notified = 0)) ORDER BY updated_ms LIMIT ?2",
            &[&before, &limit],
        )?;
        let objects = self.query(
            "SELECT body FROM records WHERE kind = 'object' AND updated_ms < ?1 \
             AND (state IN ('submitted', 'reconstructing', 'meshing') OR (state IN ('done', 'failed') AND notified = 0)) ORDER BY updated_ms LIMIT ?2",
            &[&before, &limit],
        )?;
        Ok(Stalled {
            sessions: sessions.iter().map(|b| from_json(b)).collect::<Result<_, _>>()?,
            objects: objects.iter().map(|b| from_json(b)).collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gen3d_domain::{EmailAddress, MeshOptions};

    #[tokio::test]
    async fn conditional_updates_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteJobStore::new(crate::open_database(&dir.path().join("j.sqlite")).unwrap());
        let user = UserId::parse("u").unwrap();
        let rec = SessionRecord::new(user.clone(), SessionId::parse("s").unwrap(), EmailAddress::parse("a@b.co").unwrap(), 1);
        store.create_session(&rec).await.unwrap();
        assert!(matches!(store.create_session(&rec).await, Err(PortError::Conflict(_))));
        let next = rec.moved(SessionState::Uploaded, 2).unwrap();
        assert!(matches!(store.update_session(SessionState::Created, &next).await.unwrap(), Transition::Applied(_)));
        match store.update_session(SessionState::Created, &next).await.unwrap() {
            Transition::Stale(current) => assert_eq!(current.state, SessionState::Uploaded),
            other => panic!("{other:?}"),
        }
        let other_user = UserId::parse("v").unwrap();
        assert!(store.sessions(&other_user).await.unwrap().is_empty());
        assert_eq!(store.sessions(&user).await.unwrap().len(), 1);

        let obj = ObjectRecord {
            state: ObjectState::Done,
            ..ObjectRecord::submitted(user.clone(), rec.session.clone(), ObjectId::parse("o").unwrap(), MeshOptions::standard(), 0, 3)
        };
        store.create_object(&obj).await.unwrap();
        let told = ObjectRecord { notified: true, ..obj.clone() };
        assert!(matches!(store.update_object(ObjectState::Done, false, &told).await.unwrap(), Transition::Applied(_)));
        assert!(matches!(store.update_object(ObjectState::Done, false, &told).await.unwrap(), Transition::Stale(_)), "notified only once");
    }
}
