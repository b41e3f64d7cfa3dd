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
    /// A disabled account cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, password_hash, role, created_at, disabled_at";

type Row = (OperatorId, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn from_row((id, email, password_hash, role, created_at, disabled_at): Row) -> Result<Operator, StoreError> {
    Ok(Operator { id, email, password_hash, role: OperatorRole::parse(&role)?, created_at, disabled_at })
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
        let result = writing_on_pool!(self, pool => sqlx::query(QUERY)
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
        let query = format!("SELECT {COLUMNS} FROM operators WHERE email = $1");
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(&query).bind(email).fetch_optional(pool).await?);
        row.map(from_row).transpose()
    }

    /// The operator with this id, if any.
    pub async fn operator(&self, id: OperatorId) -> Result<Option<Operator>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM operators WHERE id = $1");
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(&query).bind(id).fetch_optional(pool).await?);
        row.map(from_row).transpose()
    }

    /// Every operator account, oldest first.
    pub async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM operators ORDER BY created_at, id");
        let rows: Vec<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&query).fetch_all(pool).await?);
        rows.into_iter().map(from_row).collect()
    }

    /// Disables (`Some(at)`) or enables (`None`) an operator account, unless that would leave
    /// no enabled account of the `operator` role (then `false`, as for an unknown id): one
    /// statement, so two operators disabling each other at once cannot both succeed.
    pub async fn set_operator_disabled(&self, id: OperatorId, at: Option<DateTime<Utc>>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE operators SET disabled_at = $2 WHERE id = $1 AND ($2 IS NULL OR \
             (SELECT COUNT(*) FROM operators o WHERE o.role = 'operator' AND o.disabled_at IS NULL AND o.id <> $1) > 0)";
        let updated =
            writing_on_pool!(self, pool => sqlx::query(QUERY).bind(id).bind(at).execute(pool).await?.rows_affected());
        Ok(updated == 1)
    }

    /// Deletes an operator account unless it is the last enabled one of the `operator` role
    /// (then `false`, as for an unknown id).
    pub async fn delete_operator(&self, id: OperatorId) -> Result<bool, StoreError> {
        const QUERY: &str = "DELETE FROM operators WHERE id = $1 AND \
             (SELECT COUNT(*) FROM operators o WHERE o.role = 'operator' AND o.disabled_at IS NULL AND o.id <> $1) > 0";
        let deleted = writing_on_pool!(self, pool => sqlx::query(QUERY).bind(id).execute(pool).await?.rows_affected());
        Ok(deleted == 1)
    }

    /// Sets an operator's password hash; `false` for an unknown id.
    pub async fn set_operator_password(&self, id: OperatorId, password_hash: &str) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE operators SET password_hash = $2 WHERE id = $1";
        let updated = writing_on_pool!(self, pool => sqlx::query(QUERY).bind(id).bind(password_hash).execute(pool).await?.rows_affected());
        Ok(updated == 1)
    }
}
