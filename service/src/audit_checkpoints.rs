//! Signed checkpoints of each tenant's audit chain.
//!
//! The hash chain (`store::audit`) detects a record edited, moved or deleted by someone who
//! does not recompute the hashes after it; someone who can write the database can. A
//! checkpoint is the chain's head (sequence number and hash) signed with the deployment's
//! Ed25519 key, which lives in the server's configuration, not in the database: a history
//! rewritten with recomputed hashes no longer matches the checkpoints signed before, and
//! nobody without the key can sign new ones. Checkpoints are written every ten minutes when
//! a chain moved, and before and after every retention prune; the tenant exports them, so
//! a copy outside the database proves later what the chain was.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{AuditCheckpoint, Store, TenantId};

use crate::ServiceError;

/// Why a checkpoint was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointReason {
    /// The periodic job: the chain moved since its last checkpoint.
    Periodic,
    /// Just before the retention job deletes records: the end of what is deleted is signed.
    BeforePrune,
    /// Just after it, including its `audit.retention_pruned` record.
    AfterPrune,
}

impl CheckpointReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointReason::Periodic => "periodic",
            CheckpointReason::BeforePrune => "before_prune",
            CheckpointReason::AfterPrune => "after_prune",
        }
    }
}

/// A public key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an Ed25519 public key in base64")]
pub struct BadPublicKey(pub String);

/// The deployment's audit signing key.
#[derive(Clone)]
pub struct AuditSigner {
    key: SigningKey,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

impl AuditSigner {
    /// The key from its 32-byte seed (what the server's key file holds, in base64).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self { key: SigningKey::from_bytes(seed) }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.key.sign(message).to_bytes())
    }
}

/// An Ed25519 public key that checkpoints are checked against.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl PublicKey {
    pub fn parse(text: &str) -> Result<Self, BadPublicKey> {
        let bad = || BadPublicKey(text.to_owned());
        let bytes: [u8; 32] = STANDARD.decode(text.trim()).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
        VerifyingKey::from_bytes(&bytes).map(PublicKey).map_err(|_| bad())
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// A short name of the key: the first 16 hex digits of its SHA-256.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }
}

/// The bytes a checkpoint's signature covers: a versioned, line-separated text that names
/// the tenant, so a checkpoint of one tenant cannot stand for another's.
pub fn checkpoint_message(tenant: TenantId, seq: i64, hash: &[u8; 32], signed_at: DateTime<Utc>) -> Vec<u8> {
    let hash = hex::encode(hash);
    let at = signed_at.format("%Y-%m-%dT%H:%M:%S%.6fZ");
    format!("scim-portal audit checkpoint v1\ntenant {tenant}\nseq {seq}\nhash {hash}\nsigned_at {at}\n").into_bytes()
}

/// Signs the tenant's chain head unless its newest checkpoint is of that head already (or
/// the chain is empty); the checkpoint written, if any.
pub async fn checkpoint(
    store: &Store,
    signer: &AuditSigner,
    tenant: TenantId,
    reason: CheckpointReason,
    now: DateTime<Utc>,
) -> Result<Option<AuditCheckpoint>, ServiceError> {
    let scope = store.tenant(tenant);
    let Some((seq, hash)) = scope.audit_head().await? else {
        return Ok(None);
    };
    if seq == 0 || scope.latest_audit_checkpoint().await?.is_some_and(|latest| latest.seq >= seq) {
        return Ok(None);
    }
    // Stored to the microsecond on both backends: sign what is read back.
    let signed_at = now.trunc_subsecs(6);
    let signature = signer.sign(&checkpoint_message(tenant, seq, &hash, signed_at));
    let checkpoint = AuditCheckpoint {
        tenant,
        seq,
        hash,
        signed_at,
        reason: reason.as_str().to_owned(),
        public_key: signer.public_key().to_base64(),
        signature,
    };
    Ok(scope.save_audit_checkpoint(&checkpoint).await?.then_some(checkpoint))
}

/// The periodic job: a checkpoint of every tenant's chain that moved since its last one.
/// Returns how many were written.
pub async fn checkpoint_all(store: &Store, signer: &AuditSigner, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let mut written = 0;
    for tenant in store.tenant_ids().await? {
        if checkpoint(store, signer, tenant, CheckpointReason::Periodic, now).await?.is_some() {
            written += 1;
        }
    }
    Ok(written)
}

/// What is wrong with one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// Its signature does not verify: it was altered or forged.
    BadSignature { seq: i64 },
    /// Signed by a key that is not trusted.
    UntrustedKey { seq: i64, key_id: String },
    /// The chain's record of that number has another hash now: history was rewritten.
    Rewritten { seq: i64 },
    /// The chain no longer reaches that number: its newest records were removed.
    BeyondHead { seq: i64, head: i64 },
    /// The record is gone although it is after the chain's kept start.
    Missing { seq: i64 },
    /// A checkpoint of another tenant (in an exported file).
    OtherTenant { seq: i64 },
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointProblem::BadSignature { seq } => {
                write!(f, "the checkpoint at record {seq} has a signature that does not verify")
            }
            CheckpointProblem::UntrustedKey { seq, key_id } => {
                write!(f, "the checkpoint at record {seq} is signed by key {key_id}, which is not trusted")
            }
            CheckpointProblem::Rewritten { seq } => write!(
                f,
                "record {seq} is not the record that was signed: the history up to it was rewritten (its hashes recomputed)"
            ),
            CheckpointProblem::BeyondHead { seq, head } => {
                write!(f, "a checkpoint signed record {seq}, but the chain now ends at {head}: records were removed")
            }
            CheckpointProblem::Missing { seq } => write!(f, "record {seq}, which a checkpoint signed, is gone"),
            CheckpointProblem::OtherTenant { seq } => write!(f, "the checkpoint at record {seq} is of another tenant"),
        }
    }
}

/// The result of checking a tenant's checkpoints against its chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointReport {
    /// Checkpoints whose signature verified and whose record matched.
    pub verified: usize,
    /// Checkpoints of records pruned since (their signature verified; there is nothing
    /// left to compare them with).
    pub before_kept_start: usize,
    /// The newest checkpoint checked: its record and when it was signed.
    pub latest: Option<(i64, DateTime<Utc>)>,
    pub problems: Vec<CheckpointProblem>,
}

/// Checks checkpoints (the ones kept in the database, or an exported copy) against the
/// tenant's chain as it is now: each signature under a trusted key, each signed record
/// still there with the same hash.
pub async fn verify_checkpoints(
    store: &Store,
    tenant: TenantId,
    trusted: &[PublicKey],
    checkpoints: &[AuditCheckpoint],
) -> Result<CheckpointReport, ServiceError> {
    let mut checker = Checker::new(store, tenant, trusted).await?;
    checker.check(checkpoints).await?;
    Ok(checker.report)
}

/// Checks the checkpoints kept in the database, a page at a time.
pub async fn verify_kept_checkpoints(
    store: &Store,
    tenant: TenantId,
    trusted: &[PublicKey],
) -> Result<CheckpointReport, ServiceError> {
    const PAGE: i64 = 1000;
    let mut checker = Checker::new(store, tenant, trusted).await?;
    let mut after = 0;
    loop {
        let page = store.tenant(tenant).audit_checkpoints(after, PAGE).await?;
        checker.check(&page).await?;
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => return Ok(checker.report),
        }
    }
}

/// Checks checkpoints against one tenant's chain as it was when the check began.
struct Checker<'a> {
    scope: store::TenantScope<'a>,
    tenant: TenantId,
    trusted: &'a [PublicKey],
    /// The chain's last record and where its kept part starts.
    head: i64,
    start: i64,
    report: CheckpointReport,
}

impl<'a> Checker<'a> {
    async fn new(store: &'a Store, tenant: TenantId, trusted: &'a [PublicKey]) -> Result<Self, ServiceError> {
        let scope = store.tenant(tenant);
        let head = scope.audit_head().await?.map_or(0, |(seq, _)| seq);
        let (start, _) = scope.audit_start().await?;
        Ok(Self { scope, tenant, trusted, head, start, report: CheckpointReport::default() })
    }

    async fn check(&mut self, checkpoints: &[AuditCheckpoint]) -> Result<(), ServiceError> {
        let (tenant, head, start, report) = (self.tenant, self.head, self.start, &mut self.report);
        for checkpoint in checkpoints {
            let seq = checkpoint.seq;
            if checkpoint.tenant != tenant {
                report.problems.push(CheckpointProblem::OtherTenant { seq });
                continue;
            }
            let Ok(key) = PublicKey::parse(&checkpoint.public_key) else {
                report.problems.push(CheckpointProblem::BadSignature { seq });
                continue;
            };
            if !self.trusted.contains(&key) {
                report.problems.push(CheckpointProblem::UntrustedKey { seq, key_id: key.key_id() });
                continue;
            }
            let message = checkpoint_message(tenant, seq, &checkpoint.hash, checkpoint.signed_at);
            let signature =
                STANDARD.decode(&checkpoint.signature).ok().and_then(|bytes| Signature::from_slice(&bytes).ok());
            if signature.is_none_or(|signature| key.0.verify(&message, &signature).is_err()) {
                report.problems.push(CheckpointProblem::BadSignature { seq });
                continue;
            }
            if report.latest.is_none_or(|(latest, _)| seq >= latest) {
                report.latest = Some((seq, checkpoint.signed_at));
            }
            if seq > head {
                report.problems.push(CheckpointProblem::BeyondHead { seq, head });
                continue;
            }
            if seq < start {
                report.before_kept_start += 1;
                continue;
            }
            match self.scope.audit_hash_at(seq).await? {
                Some(hash) if hash == checkpoint.hash => report.verified += 1,
                Some(_) => report.problems.push(CheckpointProblem::Rewritten { seq }),
                None => report.problems.push(CheckpointProblem::Missing { seq }),
            }
        }
        Ok(())
    }
}

/// A checkpoint as exported (one JSON line each): everything needed to check it with the
/// public key alone.
pub fn checkpoint_json(checkpoint: &AuditCheckpoint) -> Value {
    json!({
        "tenant_id": checkpoint.tenant.to_string(),
        "seq": checkpoint.seq,
        "hash": hex::encode(checkpoint.hash),
        "signed_at": checkpoint.signed_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "reason": checkpoint.reason,
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
        "message_format": "scim-portal audit checkpoint v1\\ntenant {tenant_id}\\nseq {seq}\\nhash {hash}\\nsigned_at {signed_at}\\n",
    })
}

/// A checkpoint read back from an exported line.
pub fn checkpoint_from_json(value: &Value) -> Result<AuditCheckpoint, String> {
    let text = |field: &str| value[field].as_str().ok_or_else(|| format!("the field {field:?} is missing"));
    let tenant = text("tenant_id")?.parse().map_err(|_| "tenant_id is not a tenant id".to_owned())?;
    let seq = value["seq"].as_i64().ok_or("the field \"seq\" is missing")?;
    let mut hash = [0_u8; 32];
    hex::decode_to_slice(text("hash")?, &mut hash).map_err(|_| "hash is not 64 hex digits".to_owned())?;
    let signed_at = DateTime::parse_from_rfc3339(text("signed_at")?)
        .map_err(|_| "signed_at is not an RFC 3339 time".to_owned())?
        .with_timezone(&Utc);
    Ok(AuditCheckpoint {
        tenant,
        seq,
        hash,
        signed_at,
        reason: text("reason")?.to_owned(),
        public_key: text("public_key")?.to_owned(),
        signature: text("signature")?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> AuditSigner {
        AuditSigner::from_seed(&[byte; 32])
    }

    #[test]
    fn a_seed_makes_one_key_whose_public_half_reads_back() {
        let key = signer(7);
        assert_eq!(key.public_key(), signer(7).public_key());
        assert_ne!(key.public_key(), signer(8).public_key());
        assert_eq!(PublicKey::parse(&key.public_key().to_base64()).unwrap(), key.public_key());
        assert!(PublicKey::parse("AAAA").is_err());
        assert_eq!(key.public_key().key_id().len(), 16);
    }

    #[test]
    fn the_message_names_the_tenant_the_record_its_hash_and_the_time() {
        let tenant: TenantId = "0199f000-0000-7000-8000-000000000001".parse().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T10:00:00.123456Z").unwrap().with_timezone(&Utc);
        let message = String::from_utf8(checkpoint_message(tenant, 42, &[0xab; 32], at)).unwrap();
        assert_eq!(
            message,
            format!(
                "scim-portal audit checkpoint v1\ntenant {tenant}\nseq 42\nhash {}\nsigned_at 2026-12-05T10:00:00.123456Z\n",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn an_exported_checkpoint_reads_back_as_it_was() {
        let tenant: TenantId = "0199f000-0000-7000-8000-000000000001".parse().unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-05T10:00:00.123456Z").unwrap().with_timezone(&Utc);
        let key = signer(3);
        let checkpoint = AuditCheckpoint {
            tenant,
            seq: 9,
            hash: [0x5a; 32],
            signed_at: at,
            reason: "periodic".into(),
            public_key: key.public_key().to_base64(),
            signature: key.sign(&checkpoint_message(tenant, 9, &[0x5a; 32], at)),
        };
        assert_eq!(checkpoint_from_json(&checkpoint_json(&checkpoint)).unwrap(), checkpoint);
        let mut broken = checkpoint_json(&checkpoint);
        broken["hash"] = json!("zz");
        assert_eq!(checkpoint_from_json(&broken).unwrap_err(), "hash is not 64 hex digits");
    }
}
