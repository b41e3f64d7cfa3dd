//! Wording shared by pages and server functions: sentences from error messages, and the
//! plain-language cause of a failed SCIM request.

/// `the display name …` -> `The display name ….`
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    let mut sentence = format!("{first}{}", chars.as_str());
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

/// What a failed SCIM request means for an admin, and what to do about it, from its status
/// and the audit record's detail (`{"response": {"scimType": …, "detail": …}}`).
pub fn failure_cause(status: i32, detail: &str) -> String {
    let parsed: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    let response = &parsed["response"];
    let scim_type = response["scimType"].as_str().unwrap_or_default();
    let said =
        response["detail"].as_str().map(|text| format!(" The server said: {}", sentence(text))).unwrap_or_default();
    let cause = match (status, scim_type) {
        (409, _) | (_, "uniqueness") => {
            "Uniqueness conflict: a user or group with the same name already exists in this directory. \
             Identity providers usually look the existing one up and update it; if this keeps failing, \
             remove the duplicate or match users by their external id."
        }
        (400, "invalidFilter") => {
            "Malformed request: the identity provider searched with a filter this service does not accept."
        }
        (400, "invalidPath" | "noTarget") => {
            "Schema mismatch: an update named an attribute that does not exist here. Check the attribute \
             mapping in the identity provider."
        }
        (400, "mutability") => {
            "Schema mismatch: the identity provider tried to change an attribute that cannot be changed \
             (such as the id). Remove that attribute from its mapping."
        }
        (400, "invalidSyntax" | "invalidValue") => {
            "Schema mismatch or unknown attribute: the request did not fit the directory's schema. Check the \
             attribute mapping in the identity provider."
        }
        (400, "tooMany") => "Malformed request: the request asked for too much at once.",
        (400, _) => "Malformed request: the identity provider sent something this service cannot read.",
        (401, _) => {
            "Authentication failure: the token is missing, expired or revoked. Generate a new token and \
             paste it into the identity provider."
        }
        (403, _) => "The token is read-only: issue a token that may make changes.",
        (404, _) => {
            "Not found: the identity provider addressed a user or group that does not exist here (any more), \
             often one deleted here but not in the identity provider. Provisioning it again fixes this."
        }
        (412, _) => "The user or group changed since the identity provider read it; it reads it again and retries.",
        (413, _) => "Malformed request: the request was larger than this service accepts.",
        (429, _) => {
            "Rate limited: the identity provider sent more requests than this directory allows. It retries on \
             its own; ask the operator to raise the limit if this persists."
        }
        (501, _) => "The identity provider asked for something this service does not offer (such as /Me).",
        (500.., _) => {
            "The server failed to answer; the identity provider will retry. If it persists, contact support with the time of this request."
        }
        _ => "The request failed.",
    };
    format!("{cause}{said}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uniqueness_failure_is_explained_with_the_servers_detail() {
        let detail =
            r#"{"response": {"scimType": "uniqueness", "detail": "userName \"ada\" is taken", "status": "409"}}"#;
        let cause = failure_cause(409, detail);
        assert!(cause.starts_with("Uniqueness conflict"), "{cause}");
        assert!(cause.ends_with("The server said: UserName \"ada\" is taken."), "{cause}");
    }

    #[test]
    fn every_failure_status_gets_a_cause() {
        for status in [400, 401, 403, 404, 409, 412, 413, 429, 500, 501, 503] {
            assert_ne!(failure_cause(status, "not json"), "The request failed.", "{status}");
        }
    }
}
