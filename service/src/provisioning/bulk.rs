//! `POST /Bulk` (RFC 7644 §3.7): many writes in one request, with `bulkId` references
//! between them, `failOnErrors`, and the advertised limits enforced.
//!
//! Operations run in request order, except that an operation referring to a `bulkId`
//! waits until the operation that defines it has run; references that can never resolve
//! (unknown or circular) fail with 409 `invalidValue`, as RFC 7644 §3.7.1 and §3.7.3
//! describe. An operation that fails undoes only itself and the others go on (RFC 7644
//! §3.7 does not make a bulk request all-or-nothing for the client), but the request's
//! writes commit together, in one transaction, when it ends: a crash or a failure of ours
//! in the middle leaves none of them stored, so the identity provider's retry of the whole
//! request meets no half-applied one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use scim::error::ScimError;
use serde_json::{Map, Value, json};
use store::ResourceKind;

use super::write_summary::{WriteSummary, Written};
use super::writes::{NewResource, write_error};
use super::{Endpoint, Precondition, Projection, ProvisioningError, etag};
use crate::ServiceError;

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const BULK_ID_PREFIX: &str = "bulkId:";

/// A creation validated before the request's transaction, or why it failed.
type PreparedNew = Result<NewResource, ProvisioningError>;

/// An operation's (status, location, version, id of the resource), or why it failed.
type Outcome = Result<(u16, Option<String>, Option<String>, Option<String>), ProvisioningError>;

/// What [`Endpoint::store_run`] did with the creations it was given.
enum Run {
    /// Stored them together: each one's index and outcome.
    Stored(Vec<(usize, Outcome)>),
    /// Stored none: this many operations are to run one by one (fewer than two creations
    /// were ready, or one of them is to be answered with its own error).
    OneByOne(usize),
}

/// One parsed operation.
#[derive(Debug)]
struct Operation {
    method: Method,
    kind: ResourceKind,
    /// The resource id in the path (absent for POST), possibly `bulkId:…`.
    id: Option<String>,
    bulk_id: Option<String>,
    version: Option<String>,
    data: Value,
    /// As written in the request, for the response.
    method_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Endpoint {
    /// Runs a bulk request and answers with a `BulkResponse`; what its operations changed
    /// is summarised only once all of them have committed together.
    pub async fn bulk(&self, body: &Value, now: DateTime<Utc>) -> Written<Value> {
        self.run_bulk(body, now).await.into()
    }

    async fn run_bulk(&self, body: &Value, now: DateTime<Utc>) -> Result<(Value, WriteSummary), ProvisioningError> {
        self.require_write()?;
        let (operations, fail_on_errors) = parse(body, super::bulk_max_operations(self.store.backend()))?;
        let prepared = self.prepare_creations(&operations, now).await;
        let batch = Arc::new(self.data().begin_batch().await.map_err(write_error)?);
        let batched = Endpoint { batch: Some(Arc::clone(&batch)), ..self.clone() };
        let (response, changes) = batched.run_operations(&operations, prepared, fail_on_errors, now).await?;
        drop(batched);
        let batch = Arc::into_inner(batch)
            .ok_or_else(|| ServiceError::Internal("a bulk request's transaction is still in use".to_owned()))?;
        batch.commit().await?;
        Ok((response, changes))
    }

    /// Validates and prepares, before the request's transaction begins, each creation that
    /// refers to no `bulkId` (nothing another operation writes changes it), so that the
    /// transaction, which holds the database's writer (SQLite), only stores them. An
    /// operation whose preparation failed fails when its turn comes, as it would have.
    async fn prepare_creations(&self, operations: &[Operation], now: DateTime<Utc>) -> Vec<Option<PreparedNew>> {
        let mut prepared = Vec::with_capacity(operations.len());
        for operation in operations {
            let ready = operation.method == Method::Post
                && references(operation).is_empty()
                && self.require_offered(operation.kind).is_ok();
            prepared.push(match ready {
                true => Some(self.prepare_new(operation.kind, &operation.data, now).await),
                false => None,
            });
        }
        prepared
    }

    /// Runs the operations (in this endpoint's batch): the `BulkResponse`, and what the
    /// operations wrote to the batch.
    async fn run_operations(
        &self,
        operations: &[Operation],
        mut prepared: Vec<Option<PreparedNew>>,
        fail_on_errors: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<(Value, WriteSummary), ProvisioningError> {
        let mut changes = WriteSummary::default();
        let mut results: Vec<Option<Value>> = vec![None; operations.len()];
        let mut created: HashMap<String, String> = HashMap::new();
        let defined: HashSet<&str> = operations.iter().filter_map(|o| o.bulk_id.as_deref()).collect();
        let mut pending: Vec<usize> = (0..operations.len()).collect();
        let mut errors = 0;
        'passes: while !pending.is_empty() {
            let mut deferred = Vec::new();
            let mut progressed = false;
            let mut position = 0;
            // How many of the next operations run one by one (a run refused as a whole).
            let mut alone = 0;
            while position < pending.len() {
                let mut outcomes = Vec::new();
                if alone == 0 {
                    match self.store_run(&mut prepared, &pending[position..], &mut changes).await? {
                        Run::Stored(stored) => outcomes = stored,
                        Run::OneByOne(count) => alone = count,
                    }
                }
                if outcomes.is_empty() {
                    alone = alone.saturating_sub(1);
                    let index = pending[position];
                    let operation = &operations[index];
                    let references = references(operation);
                    let unknown: Vec<&String> = references.iter().filter(|r| !defined.contains(r.as_str())).collect();
                    let waiting = references.iter().any(|r| defined.contains(r.as_str()) && !created.contains_key(r));
                    let outcome = if !unknown.is_empty() {
                        Err(ScimError::InvalidValue(format!("bulkId {} is defined by no operation", unknown[0])).into())
                    } else if waiting {
                        deferred.push(index);
                        position += 1;
                        continue;
                    } else {
                        self.run(operation, prepared[index].take(), &created, now, &mut changes).await
                    };
                    outcomes.push((index, outcome));
                }
                position += outcomes.len();
                progressed = true;
                for (index, outcome) in outcomes {
                    let operation = &operations[index];
                    let result = match outcome {
                        Ok((status, location, version, id)) => {
                            if let (Some(bulk_id), Some(id)) = (&operation.bulk_id, id) {
                                created.insert(bulk_id.clone(), id);
                            }
                            response(operation, &status.to_string(), location, version, None)
                        }
                        Err(ProvisioningError::Protocol(error)) => {
                            errors += 1;
                            let status = error.status().to_string();
                            response(operation, &status, None, None, Some(error.to_body()))
                        }
                        // Our failure: the identity provider retries the whole request.
                        Err(error) => return Err(error),
                    };
                    results[index] = Some(result);
                    if fail_on_errors.is_some_and(|limit| errors >= limit) {
                        break 'passes;
                    }
                }
            }
            if !progressed {
                // What is left waits on bulkIds whose operations wait in turn: a cycle,
                // or an operation that failed.
                for index in deferred {
                    let error = ScimError::InvalidValue(
                        "this operation refers to a bulkId whose resource was not created (a circular reference, \
                         or its operation failed)"
                            .to_owned(),
                    );
                    results[index] = Some(response(&operations[index], "409", None, None, Some(error.to_body())));
                }
                break;
            }
            pending = deferred;
        }
        let operations: Vec<Value> = results.into_iter().flatten().collect();
        Ok((json!({"schemas": [BULK_RESPONSE], "Operations": operations}), changes))
    }

    /// Stores together the creations at the head of `pending` that were prepared before the
    /// transaction (see [`Endpoint::store_all_prepared`]): each one's index and outcome.
    /// Stored together, every one of them succeeded, so no `failOnErrors` limit is reached
    /// among them.
    async fn store_run(
        &self,
        prepared: &mut [Option<PreparedNew>],
        pending: &[usize],
        changes: &mut WriteSummary,
    ) -> Result<Run, ProvisioningError> {
        let run: Vec<usize> =
            pending.iter().copied().take_while(|&index| matches!(prepared[index], Some(Ok(_)))).collect();
        let news: Vec<&NewResource> =
            run.iter().filter_map(|&index| prepared[index].as_ref().and_then(|new| new.as_ref().ok())).collect();
        if news.len() < 2 {
            return Ok(Run::OneByOne(1));
        }
        if !self.store_all_prepared(&news).await? {
            return Ok(Run::OneByOne(news.len()));
        }
        let mut outcomes = Vec::with_capacity(run.len());
        for index in run {
            if let Some(Ok(new)) = prepared[index].take() {
                let record = Written::from(Ok(new.stored())).result_noting_in(changes)?;
                let location = self.location(record.kind, &record.id);
                outcomes.push((index, Ok((201, Some(location), Some(etag(record.version)), Some(record.id)))));
            }
        }
        Ok(Run::Stored(outcomes))
    }

    /// Runs one operation (a creation with what [`Self::prepare_creations`] made of it, if
    /// anything): (status, location, version, id of the resource); what it wrote is added
    /// to `changes`.
    async fn run(
        &self,
        operation: &Operation,
        prepared: Option<PreparedNew>,
        created: &HashMap<String, String>,
        now: DateTime<Utc>,
        changes: &mut WriteSummary,
    ) -> Outcome {
        let data = substitute(&operation.data, created);
        let id = operation.id.as_deref().map(|id| resolve(id, created));
        let precondition = Precondition::from_if_match(operation.version.as_deref())?;
        let projection = Projection::default();
        let kind = operation.kind;
        self.require_offered(kind)?;
        // A bulk response carries only each resource's location and version: the groups of
        // a user or the members of a group it creates or replaces are not read back.
        let unread = match kind {
            ResourceKind::User => Projection::parse(None, Some("groups"))?,
            ResourceKind::Group => Projection::parse(None, Some("members"))?,
            ResourceKind::Agent | ResourceKind::AgenticApplication => Projection::default(),
        };
        let need_id = || ScimError::InvalidValue("the path must name a resource: /Users/{id}".to_owned());
        match operation.method {
            Method::Post => {
                let new = match prepared {
                    Some(new) => new?,
                    None => self.prepare_new(kind, &data, now).await?,
                };
                // Only the location and version are answered: the resource is not rendered.
                let stored = self.store_prepared(new).await;
                let record = Written::from(stored).result_noting_in(changes)?;
                Ok((201, Some(self.location(kind, &record.id)), Some(etag(record.version)), Some(record.id)))
            }
            Method::Put => {
                let id = id.ok_or_else(need_id)?;
                let written = self.replace(kind, &id, &data, &precondition, &unread, now).await;
                let resource = written.result_noting_in(changes)?;
                Ok((200, location(&resource.body), Some(resource.etag()), Some(id)))
            }
            Method::Patch => {
                let id = id.ok_or_else(need_id)?;
                let written = self.patch(kind, &id, &data, &precondition, &projection, now).await;
                match written.result_noting_in(changes)? {
                    Some(resource) => Ok((200, location(&resource.body), Some(resource.etag()), Some(id))),
                    None => Ok((204, Some(self.location(kind, &id)), None, Some(id))),
                }
            }
            Method::Delete => {
                let id = id.ok_or_else(need_id)?;
                self.delete(kind, &id, &precondition, now).await.result_noting_in(changes)?;
                Ok((204, None, None, Some(id)))
            }
        }
    }
}

/// The operations of a Bulk request of at most `max_operations`, and its `failOnErrors`.
fn parse(body: &Value, max_operations: usize) -> Result<(Vec<Operation>, Option<usize>), ScimError> {
    let syntax = |m: &str| ScimError::InvalidSyntax(m.to_owned());
    let body = body.as_object().ok_or_else(|| syntax("the body must be a JSON object"))?;
    let schemas = get_ci(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST)))) {
        return Err(syntax(&format!("\"schemas\" must contain {BULK_REQUEST}")));
    }
    let fail_on_errors = match get_ci(body, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ScimError::InvalidValue("failOnErrors must be a positive integer".to_owned()))?,
        ),
    };
    let operations = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("\"Operations\" must be an array"))?;
    if operations.len() > max_operations {
        return Err(ScimError::PayloadTooLarge(format!(
            "a bulk request may hold at most {max_operations} operations (maxOperations); this one has {}",
            operations.len()
        )));
    }
    let mut bulk_ids = HashSet::new();
    let operations = operations
        .iter()
        .enumerate()
        .map(|(index, operation)| {
            let at = |m: String| ScimError::InvalidSyntax(format!("operation {}: {m}", index + 1));
            let operation = operation.as_object().ok_or_else(|| at("must be an object".into()))?;
            let method_name = get_ci(operation, "method").and_then(Value::as_str).unwrap_or_default().to_owned();
            let method = match method_name.to_ascii_uppercase().as_str() {
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "PATCH" => Method::Patch,
                "DELETE" => Method::Delete,
                _ => return Err(at("\"method\" must be POST, PUT, PATCH or DELETE".into())),
            };
            let path =
                get_ci(operation, "path").and_then(Value::as_str).ok_or_else(|| at("\"path\" is missing".into()))?;
            let mut segments = path.trim_matches('/').splitn(2, '/');
            // Whether the directory serves the kind is checked when the operation runs.
            let kind = segments.next().and_then(ResourceKind::from_endpoint).ok_or_else(|| {
                at(format!("unknown path {path:?}: expected /Users, /Groups, /Agents or /AgenticApplications"))
            })?;
            let id = segments.next().filter(|id| !id.is_empty()).map(str::to_owned);
            if (method == Method::Post) == id.is_some() {
                return Err(at(format!(
                    "{method_name} takes {}",
                    if method == Method::Post { "/Users" } else { "/Users/{id}" }
                )));
            }
            let bulk_id = get_ci(operation, "bulkId").and_then(Value::as_str).map(str::to_owned);
            if method == Method::Post && bulk_id.is_none() {
                return Err(at("a POST needs a \"bulkId\"".into()));
            }
            if let Some(bulk_id) = &bulk_id
                && !bulk_ids.insert(bulk_id.clone())
            {
                return Err(at(format!("bulkId {bulk_id:?} is used twice")));
            }
            let data = get_ci(operation, "data").cloned().unwrap_or(Value::Null);
            if method != Method::Delete && !data.is_object() {
                return Err(at("\"data\" must be an object".into()));
            }
            let version = get_ci(operation, "version").and_then(Value::as_str).map(str::to_owned);
            Ok(Operation { method, kind, id, bulk_id, version, data, method_name })
        })
        .collect::<Result<_, _>>()?;
    Ok((operations, fail_on_errors))
}

fn get_ci<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The bulkIds an operation refers to (in its path or anywhere in its data).
fn references(operation: &Operation) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => {
                if let Some(id) = text.strip_prefix(BULK_ID_PREFIX) {
                    out.push(id.to_owned());
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            Value::Object(members) => members.values().for_each(|member| walk(member, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(id) = operation.id.as_deref().and_then(|id| id.strip_prefix(BULK_ID_PREFIX)) {
        out.push(id.to_owned());
    }
    walk(&operation.data, &mut out);
    out
}

/// `bulkId:x` replaced by the id created for `x`.
fn resolve(text: &str, created: &HashMap<String, String>) -> String {
    text.strip_prefix(BULK_ID_PREFIX)
        .and_then(|bulk_id| created.get(bulk_id))
        .cloned()
        .unwrap_or_else(|| text.to_owned())
}

fn substitute(value: &Value, created: &HashMap<String, String>) -> Value {
    match value {
        Value::String(text) => Value::String(resolve(text, created)),
        Value::Array(items) => Value::Array(items.iter().map(|item| substitute(item, created)).collect()),
        Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), substitute(v, created))).collect())
        }
        other => other.clone(),
    }
}

fn location(body: &Value) -> Option<String> {
    body.pointer("/meta/location").and_then(Value::as_str).map(str::to_owned)
}

fn response(
    operation: &Operation,
    status: &str,
    location: Option<String>,
    version: Option<String>,
    error: Option<Value>,
) -> Value {
    let mut result = Map::new();
    result.insert("method".to_owned(), json!(operation.method_name));
    if let Some(bulk_id) = &operation.bulk_id {
        result.insert("bulkId".to_owned(), json!(bulk_id));
    }
    if let Some(location) = location {
        result.insert("location".to_owned(), json!(location));
    }
    if let Some(version) = version {
        result.insert("version".to_owned(), json!(version));
    }
    result.insert("status".to_owned(), json!(status));
    if let Some(error) = error {
        result.insert("response".to_owned(), error);
    }
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_in_paths_and_data() {
        let operation = Operation {
            method: Method::Patch,
            kind: ResourceKind::Group,
            id: Some("bulkId:group".into()),
            bulk_id: None,
            version: None,
            data: json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:user"}]}]}),
            method_name: "PATCH".into(),
        };
        assert_eq!(references(&operation), vec!["group".to_owned(), "user".to_owned()]);
        let created: HashMap<String, String> = [("user".to_owned(), "u-1".to_owned())].into_iter().collect();
        assert_eq!(substitute(&operation.data, &created)["Operations"][0]["value"][0]["value"], "u-1");
    }

    #[test]
    fn limits_and_shapes_are_checked() {
        let operations =
            |n| -> Vec<Value> { (0..n).map(|_| json!({"method": "DELETE", "path": "/Users/x"})).collect() };
        let at_the_limit = json!({"schemas": [BULK_REQUEST], "Operations": operations(250)});
        assert_eq!(parse(&at_the_limit, 250).unwrap().0.len(), 250);
        let too_many = json!({"schemas": [BULK_REQUEST], "Operations": operations(251)});
        assert!(matches!(parse(&too_many, 250), Err(ScimError::PayloadTooLarge(_))));
        let post_without_bulk_id =
            json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "path": "/Users", "data": {}}]});
        assert!(matches!(parse(&post_without_bulk_id, 250), Err(ScimError::InvalidSyntax(_))));
        let bad_fail_on_errors = json!({"schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": []});
        assert!(matches!(parse(&bad_fail_on_errors, 250), Err(ScimError::InvalidValue(_))));
        let unknown_path =
            json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "DELETE", "path": "/Things/1"}]});
        assert!(matches!(parse(&unknown_path, 250), Err(ScimError::InvalidSyntax(_))));
    }
}
