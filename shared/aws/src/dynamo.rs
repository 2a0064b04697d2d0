//! The `JobStore` port on DynamoDB: conditional writes on the state read.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use gen3d_config::job_table;
use gen3d_domain::{DisplayName, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState, UserId};
use gen3d_ports::{JobStore, PortError, Stalled, Transition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::classify;

/// Sessions and objects in one DynamoDB table (schema: `gen3d_config::job_table`). Every
/// update is a conditional write on the state the caller read; a lost race comes back as
/// `Transition::Stale` with the stored record.
pub struct DynamoJobStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Days after its last update an item expires (the table's TTL, stack config `jobTtlDays`).
    ttl_days: u32,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn state_name<T: Serialize>(state: &T) -> Result<String, PortError> {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(PortError::Internal("state is not a string".into())),
    }
}

/// The attribute holding the name a user gave a record: apart from `body`, which the
/// pipeline's conditional writes replace, so they never undo a rename.
const NAME: &str = "name";

/// The record in `body`, with its name from the `name` attribute.
fn body<T: DeserializeOwned>(item: &Item) -> Result<T, PortError> {
    let raw = item.get("body").and_then(|b| b.as_s().ok()).ok_or_else(|| PortError::Internal("record without body".into()))?;
    let mut doc: serde_json::Value = serde_json::from_str(raw).map_err(|e| PortError::Internal(format!("corrupt record: {e}")))?;
    if let Some(fields) = doc.as_object_mut() {
        match item.get(NAME).and_then(|n| n.as_s().ok()) {
            Some(name) => fields.insert(NAME.to_owned(), serde_json::Value::String(name.clone())),
            None => fields.remove(NAME),
        };
    }
    serde_json::from_value(doc).map_err(|e| PortError::Internal(format!("corrupt record: {e}")))
}

/// The stored fields of one record; `expires_at` is `ttl_days` after `updated_ms`.
#[allow(clippy::too_many_arguments)]
fn item<T: Serialize>(
    pk: &str,
    sk: &str,
    kind: &str,
    state: &str,
    notified: bool,
    updated_ms: u64,
    ttl_days: u32,
    record: &T,
) -> Result<Item, PortError> {
    let json = serde_json::to_string(record).map_err(|e| PortError::Internal(format!("serialise record: {e}")))?;
    Ok(HashMap::from([
        (job_table::PARTITION_KEY.to_owned(), s(pk)),
        (job_table::SORT_KEY.to_owned(), s(sk)),
        (job_table::BY_USER_PARTITION.to_owned(), s(pk)),
        (job_table::BY_USER_SORT.to_owned(), n(updated_ms)),
        (job_table::TTL_ATTRIBUTE.to_owned(), n(updated_ms / 1000 + u64::from(ttl_days) * 86_400)),
        ("kind".to_owned(), s(kind)),
        ("state".to_owned(), s(state)),
        ("notified".to_owned(), AttributeValue::Bool(notified)),
        ("body".to_owned(), s(json)),
    ]))
}

impl DynamoJobStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str, ttl_days: u32) -> Self {
        Self { client, table: table.to_owned(), ttl_days }
    }

    async fn create(&self, item: Item, what: String) -> Result<(), PortError> {
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", job_table::PARTITION_KEY)
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(PortError::Conflict(format!("{what} already exists")))
            }
            Err(e) => Err(classify(&format!("create {what}"), e)),
        }
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(job_table::PARTITION_KEY, s(pk))
            .key(job_table::SORT_KEY, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&format!("read {sk}"), e))?;
        Ok(out.item)
    }

    /// Writes `next`'s attributes if the stored item is in `state` (and `notified`, when
    /// given). An update, not a put: the `name` attribute stays as it is.
    async fn conditional(&self, mut next: Item, state: &str, notified: Option<bool>, what: &str) -> Result<bool, PortError> {
        let mut condition = "#state = :expected".to_owned();
        let (Some(pk), Some(sk)) = (next.remove(job_table::PARTITION_KEY), next.remove(job_table::SORT_KEY)) else {
            return Err(PortError::Internal(format!("update {what}: the item has no key")));
        };
        let mut req = self.client.update_item().table_name(&self.table).key(job_table::PARTITION_KEY, pk).key(job_table::SORT_KEY, sk);
        let mut sets = Vec::new();
        for (i, (attribute, value)) in next.into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            req = req.expression_attribute_names(format!("#a{i}"), attribute).expression_attribute_values(format!(":a{i}"), value);
        }
        req = req
            .update_expression(format!("SET {}", sets.join(", ")))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":expected", s(state));
        if let Some(notified) = notified {
            condition.push_str(" AND #notified = :notified");
            req = req.expression_attribute_names("#notified", "notified").expression_attribute_values(":notified", AttributeValue::Bool(notified));
        }
        match req.condition_expression(condition).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(&format!("update {what}"), e)),
        }
    }

    /// Sets or removes the item's `name` attribute: `Ok(false)` when there is no item.
    async fn rename(&self, pk: &str, sk: &str, name: Option<&DisplayName>) -> Result<bool, PortError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(job_table::PARTITION_KEY, s(pk))
            .key(job_table::SORT_KEY, s(sk))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", job_table::PARTITION_KEY)
            .expression_attribute_names("#name", NAME);
        req = match name {
            Some(name) => req.update_expression("SET #name = :name").expression_attribute_values(":name", s(name.as_str())),
            None => req.update_expression("REMOVE #name"),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(&format!("rename {sk}"), e)),
        }
    }

    /// Deletes the item if it is in `state`: `Ok(false)` when it is not (or is gone).
    async fn delete_if(&self, pk: &str, sk: &str, state: &str) -> Result<bool, PortError> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(job_table::PARTITION_KEY, s(pk))
            .key(job_table::SORT_KEY, s(sk))
            .condition_expression("#state = :expected")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":expected", s(state));
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(&format!("delete {sk}"), e)),
        }
    }

    async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", job_table::PARTITION_KEY)
            .expression_attribute_names("#sk", job_table::SORT_KEY)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            items.extend(page.map_err(|e| classify(&format!("query {prefix}"), e))?.items.unwrap_or_default());
        }
        Ok(items)
    }
}

#[async_trait]
impl JobStore for DynamoJobStore {
    async fn create_session(&self, r: &SessionRecord) -> Result<(), PortError> {
        let sk = job_table::session_sort_key(r.session.as_str());
        let it = item(r.user.as_str(), &sk, "session", &state_name(&r.state)?, r.notified, r.updated_ms, self.ttl_days, r)?;
        self.create(it, format!("session {}", r.session)).await
    }

    async fn session(&self, user: &UserId, session: &SessionId) -> Result<Option<SessionRecord>, PortError> {
        self.get(user.as_str(), &job_table::session_sort_key(session.as_str())).await?.map(|i| body(&i)).transpose()
    }

    async fn sessions(&self, user: &UserId) -> Result<Vec<SessionRecord>, PortError> {
        let mut out: Vec<SessionRecord> = self.query_prefix(user.as_str(), "session#").await?.iter().map(body).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.session.as_str().cmp(b.session.as_str())));
        Ok(out)
    }

    async fn update_session(&self, expected: SessionState, next: &SessionRecord) -> Result<Transition<SessionRecord>, PortError> {
        let sk = job_table::session_sort_key(next.session.as_str());
        let it = item(next.user.as_str(), &sk, "session", &state_name(&next.state)?, next.notified, next.updated_ms, self.ttl_days, next)?;
        if self.conditional(it, &state_name(&expected)?, None, &sk).await? {
            return Ok(Transition::Applied(next.clone()));
        }
        let current = self.session(&next.user, &next.session).await?.ok_or_else(|| PortError::NotFound(format!("session {}", next.session)))?;
        Ok(Transition::Stale(current))
    }

    async fn delete_session(&self, user: &UserId, session: &SessionId, expected: SessionState) -> Result<bool, PortError> {
        self.delete_if(user.as_str(), &job_table::session_sort_key(session.as_str()), &state_name(&expected)?).await
    }

    async fn delete_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, expected: ObjectState) -> Result<bool, PortError> {
        self.delete_if(user.as_str(), &job_table::object_sort_key(session.as_str(), object.as_str()), &state_name(&expected)?).await
    }

    async fn create_object(&self, r: &ObjectRecord) -> Result<(), PortError> {
        let sk = job_table::object_sort_key(r.session.as_str(), r.object.as_str());
        let it = item(r.user.as_str(), &sk, "object", &state_name(&r.state)?, r.notified, r.updated_ms, self.ttl_days, r)?;
        self.create(it, format!("object {}", r.object)).await
    }

    async fn object(&self, user: &UserId, session: &SessionId, object: &ObjectId) -> Result<Option<ObjectRecord>, PortError> {
        self.get(user.as_str(), &job_table::object_sort_key(session.as_str(), object.as_str())).await?.map(|i| body(&i)).transpose()
    }

    async fn objects(&self, user: &UserId, session: &SessionId) -> Result<Vec<ObjectRecord>, PortError> {
        let mut out: Vec<ObjectRecord> =
            self.query_prefix(user.as_str(), &job_table::objects_prefix(session.as_str())).await?.iter().map(body).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.object.as_str().cmp(b.object.as_str())));
        Ok(out)
    }

    async fn user_objects(&self, user: &UserId) -> Result<Vec<ObjectRecord>, PortError> {
        let mut out: Vec<ObjectRecord> = self.query_prefix(user.as_str(), "object#").await?.iter().map(body).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.object.as_str().cmp(b.object.as_str())));
        Ok(out)
    }

    async fn update_object(
        &self,
        expected: ObjectState,
        expected_notified: bool,
        next: &ObjectRecord,
    ) -> Result<Transition<ObjectRecord>, PortError> {
        let sk = job_table::object_sort_key(next.session.as_str(), next.object.as_str());
        let it = item(next.user.as_str(), &sk, "object", &state_name(&next.state)?, next.notified, next.updated_ms, self.ttl_days, next)?;
        if self.conditional(it, &state_name(&expected)?, Some(expected_notified), &sk).await? {
            return Ok(Transition::Applied(next.clone()));
        }
        let current =
            self.object(&next.user, &next.session, &next.object).await?.ok_or_else(|| PortError::NotFound(format!("object {}", next.object)))?;
        Ok(Transition::Stale(current))
    }

    async fn rename_session(&self, user: &UserId, session: &SessionId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.rename(user.as_str(), &job_table::session_sort_key(session.as_str()), name).await
    }

    async fn rename_object(&self, user: &UserId, session: &SessionId, object: &ObjectId, name: Option<&DisplayName>) -> Result<bool, PortError> {
        self.rename(user.as_str(), &job_table::object_sort_key(session.as_str(), object.as_str()), name).await
    }

    /// An operator's listing (`gen3d jobs`): a filtered scan, newest first.
    async fn failed_objects(&self, limit: usize) -> Result<Vec<ObjectRecord>, PortError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#kind = :object AND #state = :failed")
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":object", s("object"))
            .expression_attribute_values(":failed", s("failed"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for i in page.map_err(|e| classify("scan failed objects", e))?.items.unwrap_or_default() {
                out.push(body::<ObjectRecord>(&i)?);
            }
        }
        out.sort_by_key(|o| std::cmp::Reverse(o.updated_ms));
        out.truncate(limit);
        Ok(out)
    }

    /// The sweeper's listing: a filtered scan (once every few minutes; the table holds
    /// `jobTtlDays` of records).
    async fn stalled(&self, before_ms: u64, limit: usize) -> Result<Stalled, PortError> {
        let mut found = Stalled::default();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "#updated < :before AND ((#kind = :session AND (#state IN (:uploaded, :embedding) OR (#state = :failed AND #notified = :no))) \
                 OR (#kind = :object AND (#state IN (:submitted, :reconstructing, :meshing) OR (#state IN (:done, :failed) AND #notified = :no))))",
            )
            .expression_attribute_names("#updated", job_table::BY_USER_SORT)
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#notified", "notified")
            .expression_attribute_values(":before", n(before_ms))
            .expression_attribute_values(":session", s("session"))
            .expression_attribute_values(":object", s("object"))
            .expression_attribute_values(":uploaded", s("uploaded"))
            .expression_attribute_values(":embedding", s("embedding"))
            .expression_attribute_values(":submitted", s("submitted"))
            .expression_attribute_values(":reconstructing", s("reconstructing"))
            .expression_attribute_values(":meshing", s("meshing"))
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for i in page.map_err(|e| classify("scan stalled jobs", e))?.items.unwrap_or_default() {
                match i.get("kind").and_then(|k| k.as_s().ok()).map(String::as_str) {
                    Some("session") => found.sessions.push(body::<SessionRecord>(&i)?),
                    _ => found.objects.push(body::<ObjectRecord>(&i)?),
                }
            }
        }
        found.sessions.sort_by_key(|r| r.updated_ms);
        found.objects.sort_by_key(|r| r.updated_ms);
        found.sessions.truncate(limit);
        found.objects.truncate(limit);
        Ok(found)
    }
}
