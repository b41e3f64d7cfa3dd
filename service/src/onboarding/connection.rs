//! Whether a directory's identity provider is connected: the verdict the wizard's token
//! step shows while the admin pastes the token. Connected means the identity provider's
//! token was accepted and its request succeeded; a request refused for its token (401:
//! wrong, missing, expired or revoked; 403: a read-only token asked to write) is no
//! connection, however it arrived. The newest request that says anything about the token
//! decides, so pasting a wrong token after a working one turns the verdict back.

use serde_json::Value;
use store::{DirectoryId, Store, TenantId};

use super::{OnboardingError, RequestOutcome, RequestRecord, recent_requests};
use crate::support::FailureCause;

/// The newest requests a verdict is drawn from.
pub const CONNECTION_WINDOW: i64 = 50;

/// A request refused with 401: nothing tells a token that was wrong from a missing,
/// expired or revoked one to the identity provider, and to the admin the fix is the same.
pub const REFUSED_TOKEN: &str =
    "A request arrived but its token was wrong, missing, expired or revoked — paste the token shown here.";

/// A request refused with 403: the token authenticated, but may only read.
pub const READ_ONLY_TOKEN: &str = "A request arrived but its token may only read, and the identity provider has to \
                                   write — generate a token here and paste it instead.";

/// What a directory's requests say about its identity provider's connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    /// No request has arrived yet.
    Waiting,
    /// The token works: `since` is the first request that succeeded after the newest
    /// refusal (or ever), with its token.
    Connected { since: RequestRecord },
    /// The newest request that says anything about the token was refused for it.
    Refused {
        request: RequestRecord,
        /// In plain words, with what to do: [`REFUSED_TOKEN`] or [`READ_ONLY_TOKEN`].
        reason: &'static str,
        /// Which refusal it was, as the request's audit record explains it (no token, another
        /// directory's, expired…), when the record says.
        detail: Option<String>,
    },
    /// Requests arrive with a working token, but none succeeded since the newest refusal
    /// (or ever): `request` is the newest of them (its cause: [`super::failure_cause`]).
    Failing { request: RequestRecord },
}

impl Connection {
    /// The verdict on `requests`, newest first (as [`recent_requests`] reads them).
    pub fn judge(requests: &[RequestRecord]) -> Self {
        // Walking back in time: the oldest success since the newest refusal, and the
        // newest request that failed for another reason than its token.
        let mut since = None;
        let mut failing = None;
        for request in requests {
            if request.outcome == RequestOutcome::Success {
                since = Some(request);
                continue;
            }
            let detail: Value = serde_json::from_str(&request.detail).unwrap_or_default();
            if FailureCause::of(request.status, &detail) != FailureCause::AuthenticationFailure {
                failing.get_or_insert(request);
                continue;
            }
            if since.is_none() && failing.is_none() {
                let reason = if request.status == 403 { READ_ONLY_TOKEN } else { REFUSED_TOKEN };
                let detail = detail["explanation"].as_str().map(str::to_owned);
                return Connection::Refused { request: request.clone(), reason, detail };
            }
            // Requests with a working token came after this refusal: they decide.
            break;
        }
        match (since, failing) {
            (Some(since), _) => Connection::Connected { since: since.clone() },
            (None, Some(request)) => Connection::Failing { request: request.clone() },
            (None, None) => Connection::Waiting,
        }
    }
}

/// The verdict on the newest [`CONNECTION_WINDOW`] requests of a directory of `tenant`.
pub async fn current_connection(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Connection, OnboardingError> {
    let requests = recent_requests(store, tenant, directory, 0, CONNECTION_WINDOW).await?;
    Ok(Connection::judge(&requests))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::*;

    /// Requests given oldest first, as they arrived: (status, audit detail).
    fn arrived(requests: &[(i32, Value)]) -> Vec<RequestRecord> {
        let mut records: Vec<RequestRecord> = requests
            .iter()
            .enumerate()
            .map(|(index, (status, detail))| RequestRecord {
                seq: i64::try_from(index).unwrap() + 1,
                occurred_at: DateTime::<Utc>::UNIX_EPOCH,
                actor: if *status == 401 { "unauthenticated".to_owned() } else { "token:t".to_owned() },
                method: "GET".to_owned(),
                path: "/scim/v2/d/Users".to_owned(),
                status: *status,
                latency_ms: 1,
                outcome: if *status < 400 { RequestOutcome::Success } else { RequestOutcome::Failure },
                detail: detail.to_string(),
                resource_id: None,
            })
            .collect();
        records.reverse();
        records
    }

    fn refused(refusal: &str) -> (i32, Value) {
        (401, json!({"refusal": refusal, "explanation": format!("explained: {refusal}")}))
    }

    fn ok() -> (i32, Value) {
        (200, json!({"dialect": "entra"}))
    }

    fn not_found() -> (i32, Value) {
        (404, json!({"response": {"status": "404", "detail": "no such user"}}))
    }

    fn verdict(requests: &[(i32, Value)]) -> (&'static str, Option<i64>) {
        match Connection::judge(&arrived(requests)) {
            Connection::Waiting => ("waiting", None),
            Connection::Connected { since } => ("connected", Some(since.seq)),
            Connection::Refused { request, .. } => ("refused", Some(request.seq)),
            Connection::Failing { request } => ("failing", Some(request.seq)),
        }
    }

    #[test]
    fn no_request_is_waiting() {
        assert_eq!(verdict(&[]), ("waiting", None));
    }

    #[test]
    fn a_refused_request_is_no_connection_and_says_which_refusal() {
        assert_eq!(verdict(&[refused("unknown_token")]), ("refused", Some(1)));
        let Connection::Refused { reason, detail, .. } = Connection::judge(&arrived(&[refused("no_token")])) else {
            panic!("not refused");
        };
        assert_eq!((reason, detail.as_deref()), (REFUSED_TOKEN, Some("explained: no_token")));
    }

    #[test]
    fn a_read_only_token_asked_to_write_is_refused_as_read_only() {
        let forbidden = (403, json!({"response": {"status": "403", "detail": "this token is read-only"}}));
        let Connection::Refused { reason, detail, .. } = Connection::judge(&arrived(&[forbidden])) else {
            panic!("not refused");
        };
        assert_eq!((reason, detail), (READ_ONLY_TOKEN, None));
    }

    #[test]
    fn connected_since_the_first_success_after_the_newest_refusal() {
        assert_eq!(verdict(&[ok()]), ("connected", Some(1)));
        assert_eq!(verdict(&[refused("no_token"), ok(), ok()]), ("connected", Some(2)));
        assert_eq!(verdict(&[ok(), refused("revoked_token"), ok(), not_found(), ok()]), ("connected", Some(3)));
    }

    #[test]
    fn a_refusal_after_a_success_turns_the_verdict_back() {
        assert_eq!(verdict(&[ok(), refused("unknown_token")]), ("refused", Some(2)));
    }

    #[test]
    fn failures_with_a_working_token_are_failing_not_refused_nor_connected() {
        assert_eq!(verdict(&[not_found()]), ("failing", Some(1)));
        assert_eq!(verdict(&[refused("no_token"), not_found(), not_found()]), ("failing", Some(3)));
        assert_eq!(verdict(&[ok(), not_found()]), ("connected", Some(1)));
    }
}
