//! A Google service account's key (the JSON file the Cloud console downloads) and the
//! signed JWT it exchanges for an access token with domain-wide delegation (RFC 7523 §2.1,
//! as Google's "OAuth 2.0 for Server to Server Applications" describes it): RS256 over
//! `{iss: client_email, sub: the admin impersonated, scope, aud: token_uri, iat, exp}`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;
use serde_json::json;

/// The read-only scopes the connector asks for: users, groups and their members. The
/// Workspace admin grants exactly these to the service account's client id.
pub const SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
];

/// How long an assertion is valid: Google accepts at most an hour.
const ASSERTION_SECONDS: i64 = 3600;

/// Why a key file was refused; shown to the admin who pasted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("this is not a service account key file (JSON with \"type\": \"service_account\"): {0}")]
    NotAKeyFile(String),
    #[error("the key file has no {0}")]
    Missing(&'static str),
    #[error("the key file's private_key is not an RSA private key in PEM (PKCS #8): {0}")]
    BadPrivateKey(String),
}

/// The fields of a key file the connector uses.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    client_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
}

/// A parsed service account key, ready to sign.
pub struct ServiceAccountKey {
    pub client_email: String,
    /// The numeric client id the Workspace admin authorises for domain-wide delegation.
    pub client_id: String,
    pub private_key_id: String,
    key_pair: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses the key file's JSON text.
    pub fn parse(json: &str) -> Result<Self, KeyError> {
        let file: KeyFile = serde_json::from_str(json).map_err(|error| KeyError::NotAKeyFile(error.to_string()))?;
        if file.kind.as_deref() != Some("service_account") {
            return Err(KeyError::NotAKeyFile(format!("its type is {:?}", file.kind.unwrap_or_default())));
        }
        let present =
            |value: Option<String>, name| value.filter(|v| !v.trim().is_empty()).ok_or(KeyError::Missing(name));
        let client_email = present(file.client_email, "client_email")?;
        let client_id = present(file.client_id, "client_id")?;
        let private_key_id = present(file.private_key_id, "private_key_id")?;
        let pem = present(file.private_key, "private_key")?;
        let der = pkcs8_der(&pem)?;
        let key_pair = RsaKeyPair::from_pkcs8(&der).map_err(|error| KeyError::BadPrivateKey(error.to_string()))?;
        Ok(Self { client_email, client_id, private_key_id, key_pair })
    }

    /// The signed assertion that asks `token_url` for an access token acting as `subject`
    /// (a Workspace admin's email) with [`SCOPES`], issued at `now`.
    pub fn assertion(&self, subject: &str, token_url: &str, now: DateTime<Utc>) -> Result<String, KeyError> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.private_key_id});
        let iat = now.timestamp();
        let claims = json!({
            "iss": self.client_email,
            "sub": subject,
            "scope": SCOPES.join(" "),
            "aud": token_url,
            "iat": iat,
            "exp": iat + ASSERTION_SECONDS,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| KeyError::BadPrivateKey("it could not sign".to_owned()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The public key (PKCS #1 `RSAPublicKey`, DER) matching the private one: what a token
    /// endpoint verifies the assertion with.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key_pair.public().as_ref().to_vec()
    }
}

/// The DER bytes of a `-----BEGIN PRIVATE KEY-----` block.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, KeyError> {
    let bad = |why: &str| KeyError::BadPrivateKey(why.to_owned());
    let pem = pem.replace("\\n", "\n");
    let body = pem
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END PRIVATE KEY-----").next())
        .ok_or_else(|| bad("no BEGIN/END PRIVATE KEY block"))?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(base64).map_err(|_| bad("its body is not base64"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    /// A key made for these tests only (`openssl genpkey -algorithm RSA -pkeyopt
    /// rsa_keygen_bits:2048`); it authorises nothing anywhere.
    pub(crate) const TEST_KEY_FILE: &str = include_str!("test_service_account.json");

    #[test]
    fn a_key_file_signs_an_assertion_its_public_key_verifies() {
        let key = ServiceAccountKey::parse(TEST_KEY_FILE).unwrap();
        let now: DateTime<Utc> = "2026-12-06T09:00:00Z".parse().unwrap();
        let jwt = key.assertion("admin@acme.example", "https://oauth2.googleapis.com/token", now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], key.client_email);
        assert_eq!(claims["sub"], "admin@acme.example");
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
        assert_eq!(claims["scope"].as_str().unwrap().split(' ').count(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("RS256"), Some(key.private_key_id.as_str()))
        );
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_der());
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(public.verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).is_ok());
    }

    #[test]
    fn files_that_are_not_service_account_keys_are_refused_with_the_reason() {
        assert!(matches!(ServiceAccountKey::parse("not json"), Err(KeyError::NotAKeyFile(_))));
        let oauth_client = r#"{"installed": {"client_id": "x"}}"#;
        assert!(matches!(ServiceAccountKey::parse(oauth_client), Err(KeyError::NotAKeyFile(_))));
        let mut file: serde_json::Value = serde_json::from_str(TEST_KEY_FILE).unwrap();
        file["client_email"] = serde_json::json!("");
        assert_eq!(ServiceAccountKey::parse(&file.to_string()).err(), Some(KeyError::Missing("client_email")));
        file["client_email"] = serde_json::json!("sync@acme.iam.gserviceaccount.com");
        file["private_key"] = serde_json::json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert!(matches!(ServiceAccountKey::parse(&file.to_string()), Err(KeyError::BadPrivateKey(_))));
    }
}
