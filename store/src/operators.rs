//! Operator accounts (deployment-wide: the SaaS vendor's staff, not a tenant's data).

use chrono::{DateTime, Utc};

use crate::ids::OperatorId;
use crate::{Store, StoreError};

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// Manages tenants, directories and setup links.
    Operator,
    /// Reads across tenants to investigate problems; changes nothing.
    Support,
}

impl OperatorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Operator => "operator",
            OperatorRole::Support => "support",
        }
    }

    fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "operator" => Ok(OperatorRole::Operator),
            "support" => Ok(OperatorRole::Support),
            other => Err(StoreError::Corrupt(format!("unknown operator role {other:?}"))),
        }
    }
}

/// A stored operator account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    /// Lowercased.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: OperatorRole,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// How many operator accounts exist (zero before the first start-up).
    pub async fn operator_count(&self) -> Result<i64, StoreError> {
        const QUERY: &str = "SELECT COUNT(*) FROM operators";
        Ok(on_pool!(&self.pool, pool => sqlx::query_scalar(QUERY).fetch_one(pool).await?))
    }

    /// Adds an operator; an email already in use is [`StoreError::Conflict`].
    pub async fn insert_operator(&self, operator: &Operator) -> Result<(), StoreError> {
        const QUERY: &str =
            "INSERT INTO operators (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)";
        let result = on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(operator.id)
            .bind(&operator.email)
            .bind(&operator.password_hash)
            .bind(operator.role.as_str())
            .bind(operator.created_at)
            .execute(pool)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "an operator with this email already exists"))
    }

    /// The operator with this (lowercased) email, if any.
    pub async fn operator_by_email(&self, email: &str) -> Result<Option<Operator>, StoreError> {
        const QUERY: &str = "SELECT id, email, password_hash, role, created_at FROM operators WHERE email = $1";
        let row: Option<(OperatorId, String, String, String, DateTime<Utc>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(email).fetch_optional(pool).await?);
        row.map(|(id, email, password_hash, role, created_at)| {
            Ok(Operator { id, email, password_hash, role: OperatorRole::parse(&role)?, created_at })
        })
        .transpose()
    }

    /// Every operator account, oldest first.
    pub async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        const QUERY: &str = "SELECT id, email, password_hash, role, created_at FROM operators ORDER BY created_at, id";
        let rows: Vec<(OperatorId, String, String, String, DateTime<Utc>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, email, password_hash, role, created_at)| {
                Ok(Operator { id, email, password_hash, role: OperatorRole::parse(&role)?, created_at })
            })
            .collect()
    }
}
