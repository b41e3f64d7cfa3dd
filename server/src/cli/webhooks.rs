//! Webhook endpoints: register one, read its delivery log, replay a dead letter.

use serde_json::json;
use store::{DeliveryId, TenantSlug, WebhookId};

use super::{Command, print_json, print_lines};

/// `create-webhook`: an endpoint of the tenant; its signing secret is printed once.
pub(crate) async fn create(cli: &Command<'_>, slug: &TenantSlug, url: &str, json: bool) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let options = crate::webhook_options(cli.config);
    let issued =
        service::webhooks::register_webhook(cli.store, tenant.id, url, &options, &cli.actor(), &cli.effects).await?;
    if json {
        print_json(&json!({"id": issued.id.to_string(), "secret": issued.secret}));
    } else {
        print_lines(&[
            format!("Webhook {} of tenant {slug} -> {url}", issued.id),
            format!("Signing secret: {}", issued.secret),
            "The secret is shown only now; verify the Scim-Signature header with it.".to_owned(),
        ]);
    }
    Ok(())
}

/// `webhook-log`: the endpoint's newest attempts, oldest of them first.
pub(crate) async fn log(cli: &Command<'_>, slug: &TenantSlug, webhook: WebhookId, limit: i64) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let mut attempts = service::webhooks::delivery_log(cli.store, tenant.id, webhook, None, limit.max(1)).await?;
    attempts.reverse();
    let lines: Vec<String> = attempts
        .iter()
        .map(|a| {
            format!(
                "{} {} {} event {} (#{}) attempt {} {}{}",
                a.attempted_at.to_rfc3339(),
                a.id,
                a.outcome.as_str(),
                a.event,
                a.seq,
                a.attempt,
                a.status_code.map(|s| format!("HTTP {s}")).unwrap_or_default(),
                a.error.as_deref().map(|e| format!(" {e}")).unwrap_or_default()
            )
        })
        .collect();
    print_lines(&lines);
    Ok(())
}

/// `replay-dead-letter`: sends a dead-lettered event again.
pub(crate) async fn replay(
    cli: &Command<'_>,
    slug: &TenantSlug,
    webhook: WebhookId,
    delivery: DeliveryId,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let options = crate::webhook_options(cli.config);
    let delivered =
        service::webhooks::replay(cli.store, &options, tenant.id, webhook, delivery, &cli.actor(), &cli.effects)
            .await?;
    print_lines(&[if delivered { "Delivered.".to_owned() } else { "Not delivered; see webhook-log.".to_owned() }]);
    Ok(())
}
