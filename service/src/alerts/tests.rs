use chrono::{Duration, TimeZone as _, Utc};
use store::{AlertDirectory, IdentityProvider, Revocation, SyncHealth, TokenRecord, WebhookHealth};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
}

fn directory(idp: IdentityProvider) -> DirectoryFacts {
    DirectoryFacts {
        directory: AlertDirectory {
            id: uuid::Uuid::from_u128(7).into(),
            display_name: "Globex prod".to_owned(),
            idp,
            setup_completed_at: Some(now() - Duration::days(2)),
            silence_alert_hours: None,
            active_oauth_clients: 0,
        },
        health: SyncHealth { requests: 0, failures: 0, last_request_at: Some(now() - Duration::minutes(30)) },
        live_tokens: Vec::new(),
    }
}

fn facts(directories: Vec<DirectoryFacts>) -> TenantFacts {
    TenantFacts { directories, overdue: Vec::new(), webhooks: Vec::new(), held: Vec::new() }
}

fn kinds(facts: &TenantFacts) -> Vec<AlertKind> {
    conditions(facts, &AlertSettings::default(), now()).into_iter().map(|c| c.kind).collect()
}

fn token(label: &str, expires_in: Option<Duration>) -> TokenRecord {
    TokenRecord {
        id: uuid::Uuid::from_u128(label.len() as u128).into(),
        directory: uuid::Uuid::from_u128(7).into(),
        label: label.to_owned(),
        read_only: false,
        created_at: now() - Duration::days(80),
        expires_at: expires_in.map(|d| now() + d),
        revoked_at: None,
        last_used_at: None,
    }
}

#[test]
fn a_quiet_healthy_directory_raises_nothing() {
    assert_eq!(kinds(&facts(vec![directory(IdentityProvider::Okta), directory(IdentityProvider::Entra)])), []);
}

#[test]
fn overdue_revocations_raise_one_alert_per_directory_naming_the_oldest() {
    let mut tenant = facts(vec![directory(IdentityProvider::Okta)]);
    let revocation = |user: &str, minutes: i64| Revocation {
        directory: uuid::Uuid::from_u128(7).into(),
        seq: minutes,
        user_id: user.to_owned(),
        user_name: user.to_owned(),
        kind: "user.deactivated".to_owned(),
        changed_at: now() - Duration::minutes(minutes),
        delivered_at: None,
        delivered_via: None,
        applied_at: None,
        applied_via: None,
    };
    tenant.overdue = vec![revocation("bob@globex.example", 20), revocation("ada@globex.example", 42)];
    let found = conditions(&tenant, &AlertSettings::default(), now());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, AlertKind::RevocationOverdue);
    assert_eq!(
        found[0].summary,
        "2 leavers of ‘Globex prod’ not confirmed as revoked within 15 min (oldest: ada@globex.example, 42 min ago)"
    );
}

#[test]
fn silence_counts_from_the_last_request_or_setup_against_the_directorys_threshold() {
    let silent = |idp, hours: Option<i32>, quiet_for: Duration| {
        let mut entry = directory(idp);
        entry.directory.silence_alert_hours = hours;
        entry.health.last_request_at = Some(now() - quiet_for);
        kinds(&facts(vec![entry]))
    };
    // Entra syncs every 40 minutes: three hours of silence is a stopped job.
    assert_eq!(silent(IdentityProvider::Entra, None, Duration::hours(4)), [AlertKind::IdpSilent]);
    assert_eq!(silent(IdentityProvider::Entra, None, Duration::hours(2)), []);
    // Okta pushes only on change: only the admin's threshold counts.
    assert_eq!(silent(IdentityProvider::Okta, None, Duration::days(20)), []);
    assert_eq!(silent(IdentityProvider::Okta, Some(24), Duration::hours(25)), [AlertKind::IdpSilent]);
    assert_eq!(silent(IdentityProvider::Entra, Some(0), Duration::days(3)), []);
    // Not set up yet: nothing is expected of the provider.
    let mut unfinished = directory(IdentityProvider::Entra);
    unfinished.directory.setup_completed_at = None;
    unfinished.health.last_request_at = None;
    assert_eq!(kinds(&facts(vec![unfinished])), []);
    // Set up recently, never heard from since: counts from setup.
    let mut fresh = directory(IdentityProvider::Entra);
    fresh.directory.setup_completed_at = Some(now() - Duration::hours(1));
    fresh.health.last_request_at = None;
    assert_eq!(kinds(&facts(vec![fresh])), []);
}

#[test]
fn only_the_directorys_last_token_expiring_within_a_week_raises_an_alert() {
    let with_tokens = |tokens: Vec<TokenRecord>, oauth_clients: i64| {
        let mut entry = directory(IdentityProvider::Okta);
        entry.live_tokens = tokens;
        entry.directory.active_oauth_clients = oauth_clients;
        conditions(&facts(vec![entry]), &AlertSettings::default(), now())
    };
    let found = with_tokens(vec![token("Okta prod", Some(Duration::days(3)))], 0);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].summary,
        "The SCIM token ‘Okta prod’ of ‘Globex prod’ expires in 3 d, on 7 Dec 2026 12:00 UTC; Okta stops provisioning then"
    );
    // Rotated: the successor lives on.
    assert_eq!(with_tokens(vec![token("old", Some(Duration::days(1))), token("Rotated", None)], 0), []);
    assert_eq!(with_tokens(vec![token("Okta prod", Some(Duration::days(8)))], 0), []);
    // An OAuth client fetches fresh tokens.
    assert_eq!(with_tokens(vec![token("Okta prod", Some(Duration::days(3)))], 1), []);
}

#[test]
fn a_burst_of_failures_needs_ten_and_more_than_the_rate() {
    let with = |requests, failures, percent| {
        let mut entry = directory(IdentityProvider::Okta);
        entry.health.requests = requests;
        entry.health.failures = failures;
        let settings = AlertSettings { error_rate_percent: percent, ..AlertSettings::default() };
        conditions(&facts(vec![entry]), &settings, now()).into_iter().map(|c| c.summary).collect::<Vec<_>>()
    };
    assert_eq!(with(9, 9, 20), Vec::<String>::new());
    assert_eq!(
        with(40, 10, 20),
        ["10 of 40 SCIM requests to ‘Globex prod’ failed in the last 15 minutes (25 %; the alert threshold is 20 %)"]
    );
    assert_eq!(with(60, 10, 20), Vec::<String>::new());
    assert_eq!(with(60, 10, 10).len(), 1);
}

#[test]
fn a_webhook_alerts_after_an_hour_of_failing_with_events_held_or_on_a_dead_letter() {
    let endpoint = |failing_for: Option<Duration>, held, dead_letters| WebhookHealth {
        id: uuid::Uuid::from_u128(9).into(),
        url: "https://hooks.globex.example/scim".to_owned(),
        last_delivered_at: None,
        failing_since: failing_for.map(|d| now() - d),
        held,
        dead_letters,
    };
    let with = |webhook| {
        let mut tenant = facts(Vec::new());
        tenant.webhooks = vec![webhook];
        conditions(&tenant, &AlertSettings::default(), now()).into_iter().map(|c| c.summary).collect::<Vec<_>>()
    };
    assert_eq!(
        with(endpoint(Some(Duration::minutes(61)), 3, 0)),
        ["Webhook endpoint https://hooks.globex.example/scim has failed for 1 h 1 min (3 events held back)"]
    );
    assert_eq!(with(endpoint(Some(Duration::minutes(30)), 3, 0)), Vec::<String>::new());
    // Failed long ago, but nothing is waiting any more.
    assert_eq!(with(endpoint(Some(Duration::hours(5)), 0, 0)), Vec::<String>::new());
    assert_eq!(
        with(endpoint(None, 0, 1)),
        ["Webhook endpoint https://hooks.globex.example/scim gave up on 1 event in the last 24 hours (dead letters)"]
    );
}

#[test]
fn the_products_own_endpoints_alert_as_the_deployments_under_the_same_rule() {
    let endpoint = |failing_for: Duration, held, dead_letters| store::OperatorWebhookHealth {
        id: uuid::Uuid::from_u128(11).into(),
        url: "https://product.vendor.example/hooks/workos".to_owned(),
        last_delivered_at: Some(now() - Duration::hours(3)),
        failing_since: Some(now() - failing_for),
        held,
        dead_letters,
    };
    let found = operator_conditions(&[endpoint(Duration::minutes(90), 1, 2)], now());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, AlertKind::OperatorWebhookFailing);
    assert_eq!(found[0].directory, None);
    assert_eq!(found[0].subject, format!("operator-webhook:{}", uuid::Uuid::from_u128(11)));
    assert_eq!(
        found[0].summary,
        "The product's webhook endpoint https://product.vendor.example/hooks/workos has failed for 1 h 30 min \
         (1 event held back) and gave up on 2 events in the last 24 hours (dead letters)"
    );
    assert_eq!(operator_conditions(&[endpoint(Duration::minutes(59), 4, 0)], now()), Vec::new());
    assert_eq!(AlertKind::parse("operator_webhook_failing"), Some(AlertKind::OperatorWebhookFailing));
}

#[test]
fn an_open_batch_of_held_changes_raises_one_alert_per_batch_in_words() {
    let mut tenant = facts(vec![directory(IdentityProvider::Entra)]);
    let batch = |number: i64, reason, changes: i64, revocations: i64| store::HeldBatch {
        directory: uuid::Uuid::from_u128(7).into(),
        number,
        reason,
        opened_at: now() - Duration::minutes(12),
        state: "open".to_owned(),
        decided_at: None,
        decided_by: None,
        changes,
        revocations,
    };
    tenant.held = vec![batch(3, store::HoldReason::MassRevocation, 17, 16)];
    let found = conditions(&tenant, &AlertSettings::default(), now());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, AlertKind::ChangesHeld);
    assert_eq!(found[0].subject, format!("held:{}:3", uuid::Uuid::from_u128(7)));
    assert_eq!(
        found[0].summary,
        "A mass deactivation in ‘Globex prod’ crossed the safety brake 12 min ago: 17 changes are held for \
         review, 16 of them deactivations or deletions"
    );
    tenant.held = vec![batch(4, store::HoldReason::PrivilegedGroup, 1, 0)];
    let found = conditions(&tenant, &AlertSettings::default(), now());
    assert_eq!(
        found[0].summary,
        "Members were added to a privileged group of ‘Globex prod’ 12 min ago: 1 change is held for review"
    );
}
