//! A SCIM client of this server's own endpoint, for the features that act as an identity
//! provider: the setup wizard's self-test and demo mode's simulated provider. Each sends
//! real requests over HTTP with a bearer token of the directory, so everything behind the
//! endpoint sees what it would see from a real provider.

use serde_json::Value;

/// One directory's SCIM base URL and a bearer token for it.
pub(crate) struct ScimClient {
    client: reqwest::Client,
    /// `http://…/scim/v2/{directory}`.
    base: String,
    token: String,
}

impl std::fmt::Debug for ScimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("ScimClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl ScimClient {
    pub(crate) fn new(client: reqwest::Client, base: String, token: String) -> Self {
        Self { client, base, token }
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request (`body` as `application/scim+json`); answers the status and the
    /// body as JSON (`Null` when it has none or is not JSON).
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("accept", "application/scim+json");
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}
