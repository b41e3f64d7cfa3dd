//! The storage contract, run on SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use store::testing::{FreshId as _, TestDatabase};
use store::{
    Backend, Directory, DirectoryId, DirectorySettings, IdentityProvider, NewToken, Operator, OperatorRole, SessionRow,
    Store, StoreError, StoreOptions, Tenant, TenantId, TenantSlug, TokenId, backend_tests,
};

backend_tests!(
    sqlites_write_ahead_log_is_copied_into_the_database_file_while_the_store_is_open,
    an_actions_writes_and_its_record_commit_together_or_not_at_all,
    a_fresh_database_is_migrated_and_empty,
    connecting_again_to_a_migrated_database_changes_nothing,
    ping_answers_while_the_database_is_up,
    an_operator_is_found_by_email_after_insert,
    a_second_operator_with_the_same_email_is_a_conflict,
    sessions_load_until_they_expire_and_then_are_swept,
    a_new_session_never_overwrites_an_existing_id,
    tenant_slugs_are_unique,
    a_directory_is_routed_to_its_tenant,
    one_tenant_cannot_reach_another_tenants_directory_or_tokens,
    revoking_a_token_keeps_the_first_revocation_time,
    a_revoked_token_stops_opening_its_directory_in_every_store,
    cached_credentials_follow_last_use_and_new_extensions,
    the_probes_idps_send_are_answered_from_an_index,
    a_probe_by_column_answers_as_the_generic_listing_does,
    the_bundled_sqlite_plans_once_and_keeps_no_memory_statistics,
    postgres_analyses_the_scim_tables_after_a_fixed_number_of_changes,
    expired_access_tokens_of_the_grant_are_swept_and_admin_tokens_kept,
    operator_api_keys_are_found_by_digest_and_revoked_once,
    the_audit_chain_links_each_tenants_records_in_order,
    the_audit_chain_detects_edited_deleted_and_reordered_records,
    audit_pages_filter_and_page_by_key_newest_first,
    pruning_old_audit_records_keeps_the_rest_of_the_chain_verifiable,
    tenant_summaries_count_each_tenants_directories_newest_first,
    a_write_batch_commits_as_a_whole_and_a_failed_write_undoes_only_itself,
    a_write_batch_dropped_before_commit_leaves_nothing,
    creations_stored_together_are_stored_as_each_alone_or_none_is,
    a_listing_without_a_filter_tells_the_total_the_writes_kept,
    verifying_while_records_are_appended_finds_no_break,
    active_identities_past_their_expiry_are_found_until_deactivated,
    an_identity_owned_by_an_unknown_user_or_itself_is_refused,
    identities_of_a_deactivated_or_deleted_owner_are_flagged,
    the_sweeper_and_the_flags_read_identities_by_index,
);

// The writes below are actions, which the product commits with their audit record; these
// tests commit them without one, so that the audit tests count only their own records.

async fn create_tenant(store: &Store, tenant: &Tenant) -> Result<(), store::StoreError> {
    let mut action = store.tenant(tenant.id).begin_action().await?;
    action.create_tenant(tenant).await?;
    action.commit_without_audit_for_tests().await
}

async fn create_directory(scope: store::TenantScope<'_>, directory: &Directory) -> Result<(), store::StoreError> {
    let mut action = scope.begin_action().await?;
    action.create_directory(directory).await?;
    action.commit_without_audit_for_tests().await
}

async fn insert_token(scope: store::TenantScope<'_>, token: &NewToken) -> Result<(), store::StoreError> {
    let mut action = scope.begin_action().await?;
    action.insert_token(token).await?;
    action.commit_without_audit_for_tests().await
}

async fn revoke_token(
    scope: store::TenantScope<'_>,
    token: &NewToken,
    at: chrono::DateTime<Utc>,
) -> Result<bool, store::StoreError> {
    let mut action = scope.begin_action().await?;
    let revoked = action.revoke_token(token.directory, token.id, at).await?;
    action.commit_without_audit_for_tests().await?;
    Ok(revoked)
}

async fn add_schema_extension(
    scope: store::TenantScope<'_>,
    directory: DirectoryId,
    extension: &store::SchemaExtension,
    at: chrono::DateTime<Utc>,
) -> Result<(), store::StoreError> {
    let mut action = scope.begin_action().await?;
    action.add_schema_extension(directory, extension, at).await?;
    action.commit_without_audit_for_tests().await
}

async fn prune_audit(
    scope: store::TenantScope<'_>,
    before: chrono::DateTime<Utc>,
) -> Result<(u64, i64), store::StoreError> {
    let mut action = scope.begin_action().await?;
    let pruned = action.prune_audit(before).await?;
    action.commit_without_audit_for_tests().await?;
    Ok(pruned)
}

fn at(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap()
}

async fn tenant(store: &Store, slug: &str) -> Tenant {
    let tenant = Tenant {
        id: TenantId::fresh(),
        slug: TenantSlug::parse(slug).unwrap(),
        display_name: slug.to_uppercase(),
        created_at: at(8),
    };
    create_tenant(store, &tenant).await.unwrap();
    tenant
}

async fn directory(store: &Store, tenant: &Tenant, idp: IdentityProvider) -> Directory {
    let directory = Directory {
        id: DirectoryId::fresh(),
        idp,
        display_name: idp.display_name().into(),
        created_at: at(9),
        settings: DirectorySettings::default(),
    };
    create_directory(store.tenant(tenant.id), &directory).await.unwrap();
    directory
}

fn token(directory: &Directory, digest_byte: u8) -> NewToken {
    NewToken {
        id: TokenId::fresh(),
        directory: directory.id,
        digest: [digest_byte; 32],
        label: "Okta provisioning".into(),
        read_only: false,
        created_at: at(10),
        expires_at: Some(at(20)),
        oauth_client: None,
        self_test: false,
    }
}

async fn tenant_slugs_are_unique(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;

    let again = Tenant { id: TenantId::fresh(), ..acme.clone() };
    let error = create_tenant(&db.store, &again).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(db.store.tenant_by_slug(&acme.slug).await.unwrap(), Some(acme));
    assert_eq!(db.store.deployment_overview().await.unwrap().tenant_count, 1);
}

async fn a_directory_is_routed_to_its_tenant(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;

    assert_eq!(db.store.directory_owner(okta.id).await.unwrap(), Some(acme.id));
    assert_eq!(db.store.directory_owner(DirectoryId::fresh()).await.unwrap(), None);
    assert_eq!(db.store.tenant(acme.id).directory(okta.id).await.unwrap(), Some(okta));
}

async fn one_tenant_cannot_reach_another_tenants_directory_or_tokens(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = tenant(&db.store, "globex").await;
    let acme_dir = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let globex_dir = directory(&db.store, &globex, IdentityProvider::Entra).await;
    let acme_token = token(&acme_dir, 1);
    insert_token(db.store.tenant(acme.id), &acme_token).await.unwrap();

    let as_globex = db.store.tenant(globex.id);

    assert_eq!(as_globex.directory(acme_dir.id).await.unwrap(), None);
    assert_eq!(as_globex.token_by_digest(acme_dir.id, &[1; 32]).await.unwrap(), None);
    assert!(!revoke_token(as_globex, &acme_token, at(11)).await.unwrap(), "revoked another tenant's token");
    let foreign = token(&acme_dir, 2);
    assert!(insert_token(as_globex, &foreign).await.is_err(), "stored a token for another tenant's directory");
    let still = db.store.tenant(acme.id).token_by_digest(acme_dir.id, &[1; 32]).await.unwrap().unwrap();
    assert_eq!(still.revoked_at, None);
    assert_eq!(db.store.tenant(acme.id).token_by_digest(globex_dir.id, &[1; 32]).await.unwrap(), None);
}

async fn revoking_a_token_keeps_the_first_revocation_time(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let issued = token(&okta, 7);
    let scope = db.store.tenant(acme.id);
    insert_token(scope, &issued).await.unwrap();

    scope.mark_token_used(issued.id, at(11)).await.unwrap();
    assert!(revoke_token(scope, &issued, at(12)).await.unwrap());
    assert!(revoke_token(scope, &issued, at(13)).await.unwrap());

    let stored = scope.token_by_digest(okta.id, &[7; 32]).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(at(12)));
    assert_eq!(stored.last_used_at, Some(at(11)));
    assert_eq!(stored.expires_at, Some(at(20)));
    assert_eq!((stored.label.as_str(), stored.read_only), ("Okta provisioning", false));
}

/// The credential cache never outlives a revocation: the revoking store forgets the token
/// at once, and another store on the same database (another server process) follows, on
/// PostgreSQL by notification (its TTL here is a minute, so nothing else could explain
/// it), on SQLite when its TTL runs out.
async fn a_revoked_token_stops_opening_its_directory_in_every_store(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let issued = token(&okta, 3);
    insert_token(db.store.tenant(acme.id), &issued).await.unwrap();
    let ttl = match db.url.backend() {
        Backend::Postgres => std::time::Duration::from_secs(60),
        Backend::Sqlite => std::time::Duration::from_millis(300),
    };
    let options = StoreOptions { max_connections: 2, credential_cache_ttl: ttl, ..StoreOptions::default() };
    let other = Store::connect(&db.url, &options).await.unwrap();
    for store in [&db.store, &other] {
        let access = store.directory_token(okta.id, &[3; 32]).await.unwrap().unwrap();
        assert_eq!((access.tenant, access.token.id, access.token.revoked_at), (acme.id, issued.id, None));
    }

    assert!(revoke_token(db.store.tenant(acme.id), &issued, at(12)).await.unwrap());

    let here = db.store.directory_token(okta.id, &[3; 32]).await.unwrap().unwrap();
    assert_eq!(here.token.revoked_at, Some(at(12)), "the revoking store still had the token cached");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let there = other.directory_token(okta.id, &[3; 32]).await.unwrap().unwrap();
        if there.token.revoked_at == Some(at(12)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "another store kept the revoked token for 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Unknown tokens are never cached as such, and a token does not open another directory.
    assert!(db.store.directory_token(okta.id, &[4; 32]).await.unwrap().is_none());
    assert!(db.store.directory_token(DirectoryId::fresh(), &[3; 32]).await.unwrap().is_none());
    other.close().await;
}

async fn cached_credentials_follow_last_use_and_new_extensions(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let issued = token(&okta, 5);
    let scope = db.store.tenant(acme.id);
    insert_token(scope, &issued).await.unwrap();
    let before = db.store.directory_token(okta.id, &[5; 32]).await.unwrap().unwrap();
    assert_eq!((before.token.last_used_at, before.extensions.len()), (None, 0));

    scope.mark_token_used(issued.id, at(11)).await.unwrap();
    let extension = store::SchemaExtension {
        urn: "urn:acme:params:scim:schemas:extension:2.0:User".into(),
        resource_type: store::ResourceKind::User,
        required: false,
        definition: serde_json::json!({"id": "urn:acme:params:scim:schemas:extension:2.0:User", "attributes": []}),
    };
    add_schema_extension(scope, okta.id, &extension, at(11)).await.unwrap();

    let after = db.store.directory_token(okta.id, &[5; 32]).await.unwrap().unwrap();
    assert_eq!(after.token.last_used_at, Some(at(11)));
    assert_eq!(after.extensions, vec![extension]);
}

/// The filters identity providers send before every write (RFC 7644 §3.4.2.2 probes:
/// Okta, Entra ID and the rest look a user up by userName, externalId or email, groups by
/// displayName, and poll by lastModified) are answered from an index on both backends: no
/// plan of theirs scans the directory, and no read of a user's groups or a group's members
/// reads every membership of the directory. PostgreSQL is checked with the values bound
/// and as the generic plan it switches to after a few executions. Checked twice: with the
/// statistics a new deployment has (gathered while the tables were empty, as SQLite's
/// `optimize` on the first closed connection leaves them: SQLite then read every
/// membership of the directory for each `GET /Users/{id}`, 30 times slower with 2,000)
/// and with statistics of the loaded tables.
async fn the_probes_idps_send_are_answered_from_an_index(db: TestDatabase) {
    const USERS: i64 = 2000;
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    // SQLite's `optimize` on a closed connection analyses the tables it has read, empty
    // or not (the command-line `create-directory` of a trial does), and the server's
    // long-lived connections keep planning with that until they close. PostgreSQL's
    // autovacuum analyses a table within a minute of its first rows, and that re-plans
    // prepared statements: only its analysed state lasts.
    let sqlite = db.url.backend() == store::Backend::Sqlite;
    if sqlite {
        db.analyze().await.unwrap();
    }
    let start = at(9);
    for n in 0..USERS {
        let id = format!("u{n:05}");
        let doc = serde_json::json!({
            "userName": format!("user{n}@acme.example"),
            "displayName": format!("User {n}"),
            "emails": [{"value": format!("User{n}@Acme.example"), "type": "work", "primary": true}],
        });
        let state =
            store::ResourceState { name: format!("user{n}@acme.example"), external_id: Some(format!("ext-{n}")), doc };
        let change = store::Change {
            kind: store::ChangeKind::UserCreated,
            resource_id: id.clone(),
            data: serde_json::json!({}),
            view: None,
        };
        let context = store::WriteContext { actor: "test".into(), at: start + chrono::Duration::seconds(n) };
        data.create(store::ResourceKind::User, &id, &state, &[], &change, &context).await.unwrap();
    }
    let everyone: Vec<String> = (0..USERS).map(|n| format!("u{n:05}")).collect();
    for n in 0..50 {
        let id = format!("g{n:03}");
        let state = store::ResourceState {
            name: format!("Team {n}"),
            external_id: None,
            doc: serde_json::json!({"displayName": format!("Team {n}")}),
        };
        let change = store::Change {
            kind: store::ChangeKind::GroupCreated,
            resource_id: id.clone(),
            data: serde_json::json!({}),
            view: None,
        };
        let context = store::WriteContext { actor: "test".into(), at: start };
        // The first group has everyone (each user is then in a group of 2,000 members),
        // the second three users.
        let members: &[String] = match n {
            0 => &everyone,
            1 => &everyone[..3],
            _ => &[],
        };
        data.create(store::ResourceKind::Group, &id, &state, members, &change, &context).await.unwrap();
    }
    if sqlite {
        probes_are_answered_from_an_index(&db, &data, start, USERS, "of the empty tables").await;
    }
    db.analyze().await.unwrap();
    probes_are_answered_from_an_index(&db, &data, start, USERS, "of the loaded tables").await;
}

/// `userName eq`, `externalId eq` and `displayName eq` take a path of their own (one round
/// trip through migration 0049's function on PostgreSQL, a fixed statement on SQLite): it
/// must answer what the generic listing answers for the same filter, which `X and X` still
/// takes.
async fn a_probe_by_column_answers_as_the_generic_listing_does(db: TestDatabase) {
    use scim::filter::{Filter, check, plan};
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let other = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    let user = store::ResourceKind::User;
    let group = store::ResourceKind::Group;
    create_named(&data, user, "u1", "Alice@Acme.example", Some("E-1"), vec![]).await;
    create_named(&data, user, "u2", "bob@acme.example", Some("E-1"), vec![]).await;
    create_named(&data, user, "u3", "carol@acme.example", Some("e-1"), vec![]).await;
    create_named(&data, group, "g1", "Team Blue", None, vec!["u1".to_owned()]).await;
    // The same names in another directory of the tenant, and a group named as a user.
    let elsewhere = db.store.tenant(acme.id).directory_data(other.id);
    create_named(&elsewhere, user, "u9", "alice@acme.example", Some("E-1"), vec![]).await;
    create_named(&data, group, "g2", "bob@acme.example", None, vec![]).await;

    let registry = scim::schema::SchemaRegistry::new();
    let planned = |kind: store::ResourceKind, text: &str| {
        let filter = Filter::parse(text).unwrap();
        let schema = registry.for_resource_type(kind.as_str());
        let checked = check::check(&filter, &schema, check::UnknownAttributes::Reject).unwrap();
        plan::plan(&checked, store::indexed_columns(kind))
    };
    let pages = [
        store::PageSpec::Offset { skip: 0, take: 100 },
        store::PageSpec::Offset { skip: 0, take: 1 },
        store::PageSpec::Keyset { from: None, descending: false, take: 100 },
    ];
    let probes: [(store::ResourceKind, &str, &[&str]); 6] = [
        (user, r#"userName eq "ALICE@acme.EXAMPLE""#, &["u1"]),
        (user, r#"userName eq "bob@acme.example""#, &["u2"]),
        (user, r#"userName eq "nobody@acme.example""#, &[]),
        (user, r#"externalId eq "E-1""#, &["u1", "u2"]),
        (user, r#"externalId eq "e-1""#, &["u3"]),
        (group, r#"displayName eq "team BLUE""#, &["g1"]),
    ];
    for (kind, text, expected) in probes {
        let probe = planned(kind, text);
        let generic = planned(kind, &format!("{text} and {text}"));
        for page in &pages {
            let listing = |filter| store::ListSpec {
                filter: Some(filter),
                sort: None,
                page: page.clone(),
                hide_self_test: false,
            };
            let probed = listed(&data, kind, &listing(&probe)).await;
            let answer = listed(&data, kind, &listing(&generic)).await;
            let ids = |listed: &store::ListPage| listed.records.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
            let take = match page {
                store::PageSpec::Offset { take, .. } | store::PageSpec::Keyset { take, .. } => *take as usize,
            };
            let wanted: Vec<String> = expected.iter().take(take).map(|id| (*id).to_owned()).collect();
            assert_eq!(ids(&probed.0), wanted, "{text} {page:?}");
            assert_eq!(probed.0.total, expected.len() as i64, "{text} {page:?}");
            assert_eq!(answer, probed, "{text} {page:?}");
        }
    }
    let (alice, groups) = data
        .list_users_with_groups(&store::ListSpec {
            filter: Some(&planned(user, r#"userName eq "alice@acme.example""#)),
            sort: None,
            page: store::PageSpec::Offset { skip: 0, take: 100 },
            hide_self_test: false,
        })
        .await
        .unwrap();
    assert_eq!(alice.records.len(), 1);
    let names: Vec<&str> = groups["u1"].iter().map(|g| g.display.as_str()).collect();
    assert_eq!(names, ["Team Blue"]);
}

/// Creates a resource named `name` (a user's userName, a group's displayName).
async fn create_named(
    data: &store::DirectoryData<'_>,
    kind: store::ResourceKind,
    id: &str,
    name: &str,
    external_id: Option<&str>,
    members: Vec<String>,
) {
    let doc = match kind {
        store::ResourceKind::User => serde_json::json!({"userName": name}),
        _ => serde_json::json!({"displayName": name}),
    };
    let state = store::ResourceState { name: name.to_owned(), external_id: external_id.map(str::to_owned), doc };
    let change = store::Change {
        kind: store::ChangeKind::created(kind),
        resource_id: id.to_owned(),
        data: serde_json::json!({}),
        view: None,
    };
    let context = store::WriteContext { actor: "test".into(), at: at(9) };
    data.create(kind, id, &state, &members, &change, &context).await.unwrap();
}

/// A listing as the service reads it: users with their groups, other kinds alone.
async fn listed(
    data: &store::DirectoryData<'_>,
    kind: store::ResourceKind,
    spec: &store::ListSpec<'_>,
) -> (store::ListPage, std::collections::HashMap<String, Vec<store::GroupRef>>) {
    match kind {
        store::ResourceKind::User => data.list_users_with_groups(spec).await.unwrap(),
        _ => (data.list(kind, spec).await.unwrap(), Default::default()),
    }
}

/// PostgreSQL's autovacuum analyses the SCIM tables after 1,000 changed rows whatever
/// their size, and knows that a directory belongs to one tenant (migration 0050): without
/// statistics that know a directory, its reads were planned on the wrong indexes.
async fn postgres_analyses_the_scim_tables_after_a_fixed_number_of_changes(db: TestDatabase) {
    if db.url.backend() != store::Backend::Postgres {
        return;
    }
    for table in ["scim_resources", "scim_resource_values", "scim_members", "directory_changes"] {
        let options = db
            .texts_as_owner(&format!(
                "SELECT unnest(reloptions) FROM pg_class WHERE relname = '{table}' AND relkind = 'r' ORDER BY 1"
            ))
            .await
            .unwrap();
        assert_eq!(options, ["autovacuum_analyze_scale_factor=0", "autovacuum_analyze_threshold=1000"], "{table}");
        let dependencies = db
            .texts_as_owner(&format!(
                "SELECT array_to_string(array_agg(a.attname ORDER BY a.attname), ',') FROM pg_statistic_ext s \
                 JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = ANY (s.stxkeys) \
                 WHERE s.stxrelid = '{table}'::regclass AND 'f' = ANY (s.stxkind) GROUP BY s.oid"
            ))
            .await
            .unwrap();
        assert_eq!(dependencies, ["directory_id,tenant_id"], "{table}");
    }
}

/// The bundled SQLite has the query planner stability guarantee and no memory statistics
/// (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`). Without the first, SQLite built with
/// STAT4 re-prepares a statement such as the `userName eq` probe whenever its bound value
/// changes, at every execution; without the second, every allocation takes a global mutex.
async fn the_bundled_sqlite_plans_once_and_keeps_no_memory_statistics(db: TestDatabase) {
    let options = db.sqlite_compile_options().await.unwrap();
    match db.url.backend() {
        store::Backend::Sqlite => {
            assert!(options.iter().any(|option| option == "ENABLE_STAT4"), "{options:?}");
            assert!(options.iter().any(|option| option == "ENABLE_QPSG"), "{options:?}");
            // No global mutex around every allocation (see `.cargo/config.toml`).
            assert!(options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        }
        store::Backend::Postgres => assert!(options.is_empty()),
    }
}

async fn probes_are_answered_from_an_index(
    db: &TestDatabase,
    data: &store::DirectoryData<'_>,
    start: chrono::DateTime<Utc>,
    users: i64,
    statistics: &str,
) {
    use scim::filter::{Filter, check, plan};
    for explained in data.explain_memberships("u01234", "g001").await.unwrap() {
        if let Some(scan) = reads_every_membership(&explained) {
            panic!(
                "with statistics {statistics}, a membership read on {:?} reads them all ({scan}):\n{explained}",
                db.url.backend()
            );
        }
    }
    let recent = (start + chrono::Duration::seconds(users - 3)).to_rfc3339();
    let probes = [
        (store::ResourceKind::User, r#"userName eq "USER1234@acme.example""#.to_owned()),
        (store::ResourceKind::User, r#"externalId eq "ext-1234""#.to_owned()),
        (store::ResourceKind::User, r#"emails[value eq "user1234@acme.example"]"#.to_owned()),
        (store::ResourceKind::User, r#"emails[type eq "work" and value eq "user1234@acme.example"]"#.to_owned()),
        (store::ResourceKind::User, format!(r#"meta.lastModified gt "{recent}""#)),
        (store::ResourceKind::Group, r#"displayName eq "Team 7""#.to_owned()),
    ];
    let registry = scim::schema::SchemaRegistry::new();
    for (kind, text) in probes {
        let filter = Filter::parse(&text).unwrap();
        let schema = registry.for_resource_type(kind.as_str());
        let checked = check::check(&filter, &schema, check::UnknownAttributes::Reject).unwrap();
        let planned = plan::plan(&checked, store::indexed_columns(kind));
        let spec = store::ListSpec {
            filter: Some(&planned),
            sort: None,
            page: store::PageSpec::Offset { skip: 0, take: 100 },
            hide_self_test: false,
        };
        let listed = data.list(kind, &spec).await.unwrap();
        assert!(listed.total >= 1 && listed.total <= 3, "{text} found {}", listed.total);
        let explained = data.explain_list(kind, &spec).await.unwrap();
        for plan in &explained {
            if let Some(scan) = scans_the_directory(plan) {
                panic!(
                    "with statistics {statistics}, {text} on {:?} scans the directory ({scan}):\n{plan}",
                    db.url.backend()
                );
            }
        }
        // PostgreSQL: an equality probe is planned once per connection. Its plan after five
        // executions (the last one `explain_list` answers) is the generic one, whose
        // conditions name the parameters, not the values; a custom plan there means the
        // statement is planned again at every execution (it was, at 0.5 ms a probe, while
        // its OFFSET was a parameter).
        if db.url.backend() == store::Backend::Postgres && text.contains(" eq ") && !text.contains("lastModified") {
            let settled = explained.last().unwrap();
            assert!(settled.contains("$4"), "{text}: PostgreSQL plans the page at every execution:\n{settled}");
        }
    }
    // The check itself can fail: a filter on an attribute without an index does scan.
    let filter = Filter::parse(r#"title eq "Engineer""#).unwrap();
    let schema = registry.for_resource_type("User");
    let checked = check::check(&filter, &schema, check::UnknownAttributes::Reject).unwrap();
    let planned = plan::plan(&checked, store::indexed_columns(store::ResourceKind::User));
    let spec = store::ListSpec {
        filter: Some(&planned),
        sort: None,
        page: store::PageSpec::Offset { skip: 0, take: 100 },
        hide_self_test: false,
    };
    let explained = data.explain_list(store::ResourceKind::User, &spec).await.unwrap();
    assert!(explained.iter().all(|plan| scans_the_directory(plan).is_some()), "{explained:#?}");
}

/// The line of a query plan that reads every membership of the directory, if there is one:
/// a scan of `scim_members`, or an index search on it narrowed by tenant and directory only.
fn reads_every_membership(plan: &str) -> Option<String> {
    reads_the_whole_directory(plan, "m", "scim_members", 2)
}

/// The line of a query plan that reads every resource of the directory, if there is one: a
/// table scan (SQLite `SCAN r`, PostgreSQL `Seq Scan`) or an index scan that only narrows to
/// the directory (tenant, directory and resource type are the leading columns of every
/// index; a probe must constrain a column after them).
fn scans_the_directory(plan: &str) -> Option<String> {
    reads_the_whole_directory(plan, "r", "scim_resources", 3)
}

/// The line of a plan that reads all of `table` (queried as `alias`) in the directory: a
/// scan, or an index search with fewer than `narrowing` terms (SQLite: `SEARCH r USING
/// INDEX name (tenant_id=? AND directory_id=? AND …)`; PostgreSQL: its `Index Cond`).
fn reads_the_whole_directory(plan: &str, alias: &str, table: &str, narrowing: usize) -> Option<String> {
    let lines: Vec<&str> = plan.lines().map(str::trim).collect();
    for (n, line) in lines.iter().enumerate() {
        let line = line.trim_start_matches("->").trim();
        if line.starts_with(&format!("SCAN {alias}")) || line.starts_with(&format!("Seq Scan on {table}")) {
            return Some(line.to_string());
        }
        if let Some(search) = line.strip_prefix(&format!("SEARCH {alias} ")) {
            let condition = search.split_once('(').map_or("", |(_, condition)| condition);
            if condition.matches(" AND ").count() < narrowing {
                return Some(line.to_string());
            }
        }
        if line.contains(&format!(" on {table} ")) && line.contains("Index") {
            let condition = lines[n + 1..].iter().find(|l| l.starts_with("Index Cond:")).copied().unwrap_or("");
            if condition.matches(" AND ").count() < narrowing {
                return Some(format!("{line} / {condition}"));
            }
        }
    }
    None
}

async fn expired_access_tokens_of_the_grant_are_swept_and_admin_tokens_kept(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = tenant(&db.store, "globex").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let entra = directory(&db.store, &globex, IdentityProvider::Entra).await;
    let grant = |directory: &Directory, byte: u8, expires: u32| NewToken {
        id: TokenId::fresh(),
        expires_at: Some(at(expires)),
        oauth_client: Some("scimc_client".into()),
        ..token(directory, byte)
    };
    let admin_expired = NewToken { expires_at: Some(at(9)), ..token(&okta, 1) };
    insert_token(db.store.tenant(acme.id), &admin_expired).await.unwrap();
    insert_token(db.store.tenant(acme.id), &grant(&okta, 2, 9)).await.unwrap();
    insert_token(db.store.tenant(acme.id), &grant(&okta, 3, 13)).await.unwrap();
    insert_token(db.store.tenant(globex.id), &grant(&entra, 4, 10)).await.unwrap();

    assert_eq!(db.store.delete_expired_access_tokens(at(12)).await.unwrap(), 2);

    let left = |directory: DirectoryId, byte: u8| {
        let store = db.store.clone();
        async move { store.directory_token(directory, &[byte; 32]).await.unwrap().is_some() }
    };
    assert!(left(okta.id, 1).await, "an admin's expired token was deleted");
    assert!(!left(okta.id, 2).await);
    assert!(left(okta.id, 3).await, "a grant token deleted before it expired");
    assert!(!left(entra.id, 4).await);
}

async fn operator_api_keys_are_found_by_digest_and_revoked_once(db: TestDatabase) {
    let key = store::NewApiKey {
        id: store::ApiKeyId::fresh(),
        digest: [9; 32],
        label: "product".into(),
        areas: vec!["directory_data".into(), "audit".into()],
        read_only: true,
        expires_at: Some(at(20)),
        created_at: at(10),
    };
    db.store.insert_api_key(&key).await.unwrap();
    let again = store::NewApiKey { id: store::ApiKeyId::fresh(), ..key.clone() };
    assert!(matches!(db.store.insert_api_key(&again).await, Err(StoreError::Conflict(_))));

    db.store.mark_api_key_used(key.id, at(11)).await.unwrap();
    assert!(db.store.revoke_api_key(key.id, at(12)).await.unwrap());
    assert!(!db.store.revoke_api_key(key.id, at(13)).await.unwrap(), "revoked once");
    assert!(!db.store.revoke_api_key(store::ApiKeyId::fresh(), at(13)).await.unwrap());

    let stored = db.store.api_key_by_digest(&[9; 32]).await.unwrap().unwrap();
    assert_eq!(
        (stored.id, stored.label.as_str(), stored.created_at, stored.last_used_at, stored.revoked_at),
        (key.id, "product", at(10), Some(at(11)), Some(at(12)))
    );
    assert_eq!((stored.areas.as_slice(), stored.read_only, stored.expires_at), (&key.areas[..], true, Some(at(20))));
    assert_eq!(db.store.api_key(key.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(db.store.api_keys().await.unwrap(), [stored]);
    assert_eq!(db.store.api_key_by_digest(&[8; 32]).await.unwrap(), None);
}

fn audit_record(n: i64) -> store::NewAuditRecord {
    store::NewAuditRecord {
        occurred_at: at(10) + chrono::Duration::nanoseconds(1_234_567 * n),
        actor: format!("token:{n}"),
        action: "scim.request".into(),
        directory: None,
        method: Some("POST".into()),
        path: Some("/scim/v2/x/Users".into()),
        status: Some(201),
        latency_ms: Some(n),
        resource_id: Some(format!("user-{n}")),
        outcome: store::AuditOutcome::Success,
        detail: serde_json::json!({"n": n, "b": [1.5, "ü"], "a": null}),
    }
}

/// A tenant with records 1..=5 (appended in two batches).
async fn audited_tenant(db: &TestDatabase, slug: &str) -> Tenant {
    let tenant = tenant(&db.store, slug).await;
    let scope = db.store.tenant(tenant.id);
    scope.append_audit(&[audit_record(1), audit_record(2), audit_record(3)]).await.unwrap();
    scope.append_audit(&[audit_record(4), audit_record(5)]).await.unwrap();
    tenant
}

async fn the_audit_chain_links_each_tenants_records_in_order(db: TestDatabase) {
    let acme = audited_tenant(&db, "acme").await;
    let globex = audited_tenant(&db, "globex").await;

    for tenant in [&acme, &globex] {
        let scope = db.store.tenant(tenant.id);
        let records = scope.audit_records(0, 100).await.unwrap();
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(records[0].prev_hash, [0; 32]);
        assert!(records.windows(2).all(|pair| pair[1].prev_hash == pair[0].hash));
        assert!(records.iter().all(|r| r.expected_hash() == r.hash), "hashes do not survive the round trip");
        assert_eq!(records[2].resource_id.as_deref(), Some("user-3"));
        assert_eq!(scope.audit_head().await.unwrap(), Some((5, records[4].hash)));
        assert_eq!(scope.verify_audit_chain().await.unwrap(), store::ChainReport { checked: 5, first_break: None });
    }
    // A batch larger than one statement's rows, and one that ends mid-statement.
    let scope = db.store.tenant(acme.id);
    let many: Vec<store::NewAuditRecord> = (6..=150).map(audit_record).collect();
    scope.append_audit(&many).await.unwrap();
    let records = scope.audit_records(0, 1000).await.unwrap();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=150).collect::<Vec<_>>());
    assert_eq!(records[149].latency_ms, Some(150));
    assert_eq!(scope.verify_audit_chain().await.unwrap(), store::ChainReport { checked: 150, first_break: None });
    // The two tenants' chains are separate: same content, different records.
    let acme_first = db.store.tenant(acme.id).audit_records(0, 1).await.unwrap();
    let globex_first = db.store.tenant(globex.id).audit_records(0, 1).await.unwrap();
    assert_ne!(acme_first[0].id, globex_first[0].id);
    assert_eq!(db.store.tenant(TenantId::fresh()).verify_audit_chain().await.unwrap().first_break, None);
}

async fn the_audit_chain_detects_edited_deleted_and_reordered_records(db: TestDatabase) {
    use store::ChainBreak;
    let cases: [(&str, &[&str], ChainBreak); 5] = [
        (
            "edited",
            &["UPDATE audit_records SET status = 500 WHERE tenant_id = '{t}' AND seq = 3"],
            ChainBreak::Content { seq: 3 },
        ),
        (
            "detail-edited",
            &["UPDATE audit_records SET detail = '{\"n\":4}' WHERE tenant_id = '{t}' AND seq = 4"],
            ChainBreak::Content { seq: 4 },
        ),
        (
            "deleted",
            &["DELETE FROM audit_records WHERE tenant_id = '{t}' AND seq = 2"],
            ChainBreak::Gap { expected: 2, found: 3 },
        ),
        (
            "reordered",
            &[
                "UPDATE audit_records SET seq = -2 WHERE tenant_id = '{t}' AND seq = 2",
                "UPDATE audit_records SET seq = 2 WHERE tenant_id = '{t}' AND seq = 4",
                "UPDATE audit_records SET seq = 4 WHERE tenant_id = '{t}' AND seq = -2",
            ],
            ChainBreak::Link { seq: 2 },
        ),
        (
            "truncated",
            &["DELETE FROM audit_records WHERE tenant_id = '{t}' AND seq = 5"],
            ChainBreak::Head { head_seq: 5, last_seq: 4 },
        ),
    ];
    let untouched = audited_tenant(&db, "untouched").await;
    for (name, statements, expected) in cases {
        let tenant = audited_tenant(&db, name).await;
        for statement in statements {
            let sql = statement.replace("{t}", &tenant.id.to_string());
            assert_eq!(db.execute_as_tenant(tenant.id, &sql).await.unwrap(), 1, "{name}: {sql}");
        }
        let report = db.store.tenant(tenant.id).verify_audit_chain().await.unwrap();
        assert_eq!(report.first_break, Some(expected), "{name}");
    }
    let report = db.store.tenant(untouched.id).verify_audit_chain().await.unwrap();
    assert_eq!(report, store::ChainReport { checked: 5, first_break: None });
}

fn operator(email: &str) -> Operator {
    Operator {
        id: store::OperatorId::fresh(),
        email: email.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        role: OperatorRole::Operator,
        created_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap(),
        disabled_at: None,
    }
}

async fn an_operator_is_found_by_email_after_insert(db: TestDatabase) {
    let alice = operator("alice@vendor.example");

    db.store.insert_operator(&alice).await.unwrap();

    assert_eq!(db.store.operator_count().await.unwrap(), 1);
    assert_eq!(db.store.operator_by_email("alice@vendor.example").await.unwrap(), Some(alice));
    assert_eq!(db.store.operator_by_email("bob@vendor.example").await.unwrap(), None);
}

async fn a_second_operator_with_the_same_email_is_a_conflict(db: TestDatabase) {
    db.store.insert_operator(&operator("alice@vendor.example")).await.unwrap();

    let error = db.store.insert_operator(&operator("alice@vendor.example")).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(db.store.operator_count().await.unwrap(), 1);
}

async fn sessions_load_until_they_expire_and_then_are_swept(db: TestDatabase) {
    let session = SessionRow {
        id: "s1".into(),
        data: r#"{"operator":"x"}"#.into(),
        expires_at: 1_000,
        account: Some("operator:x".into()),
    };
    db.store.save_session(&session).await.unwrap();

    assert_eq!(db.store.load_session("s1", 999).await.unwrap(), Some(session.clone()));
    assert_eq!(db.store.load_session("s1", 1_000).await.unwrap(), None, "expired at its expiry second");

    let renewed = SessionRow { expires_at: 2_000, ..session };
    db.store.save_session(&renewed).await.unwrap();
    assert_eq!(db.store.load_session("s1", 1_500).await.unwrap(), Some(renewed));

    assert_eq!(db.store.delete_expired_sessions(2_000).await.unwrap(), 1);
    assert_eq!(db.store.load_session("s1", 0).await.unwrap(), None);

    // All of an account's sessions end at once, but the one kept.
    for id in ["a", "b", "c"] {
        let row = SessionRow { id: id.into(), data: "{}".into(), expires_at: 5_000, account: Some("admin:t:1".into()) };
        db.store.save_session(&row).await.unwrap();
    }
    let other = SessionRow { id: "d".into(), data: "{}".into(), expires_at: 5_000, account: Some("operator:2".into()) };
    db.store.save_session(&other).await.unwrap();
    assert_eq!(db.store.delete_account_sessions("admin:t:1", Some("b")).await.unwrap(), 2);
    assert!(db.store.load_session("b", 0).await.unwrap().is_some());
    assert!(db.store.load_session("d", 0).await.unwrap().is_some());
    assert_eq!(db.store.delete_account_sessions("admin:t:1", None).await.unwrap(), 1);
}

async fn a_new_session_never_overwrites_an_existing_id(db: TestDatabase) {
    let first = SessionRow { id: "same".into(), data: "{}".into(), expires_at: 10, account: None };
    let second = SessionRow { id: "same".into(), data: r#"{"a":1}"#.into(), expires_at: 20, account: None };

    assert!(db.store.insert_new_session(&first).await.unwrap());
    assert!(!db.store.insert_new_session(&second).await.unwrap());

    assert_eq!(db.store.load_session("same", 0).await.unwrap(), Some(first));
    db.store.delete_session("same").await.unwrap();
    assert_eq!(db.store.load_session("same", 0).await.unwrap(), None);
}

async fn a_fresh_database_is_migrated_and_empty(db: TestDatabase) {
    let overview = db.store.deployment_overview().await.unwrap();

    assert_eq!(overview.backend, db.url.backend());
    assert_eq!(overview.schema_version, Store::latest_schema_version());
    assert_eq!(Store::latest_schema_version(), 50);
    assert_eq!(overview.tenant_count, 0);
}

async fn connecting_again_to_a_migrated_database_changes_nothing(db: TestDatabase) {
    let before = db.store.deployment_overview().await.unwrap();

    let again = Store::connect(&db.url, &StoreOptions::default()).await.unwrap();
    let after = again.deployment_overview().await.unwrap();

    assert_eq!(after, before);
    again.close().await;
}

async fn ping_answers_while_the_database_is_up(db: TestDatabase) {
    db.store.ping().await.unwrap();
    db.store.close().await;

    assert!(db.store.ping().await.is_err(), "a closed pool must not report ready");
}

#[test]
fn backends_have_readable_names() {
    assert_eq!(Backend::Sqlite.to_string(), "SQLite");
    assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
}

async fn tenant_summaries_count_each_tenants_directories_newest_first(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = Tenant { created_at: at(9), ..tenant_fields("globex") };
    create_tenant(&db.store, &globex).await.unwrap();
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let entra = directory(&db.store, &acme, IdentityProvider::Entra).await;

    let summaries = db.store.tenant_summaries().await.unwrap();

    let listed: Vec<(&str, i64)> = summaries.iter().map(|s| (s.tenant.slug.as_str(), s.directory_count)).collect();
    assert_eq!(listed, [("globex", 0), ("acme", 2)]);
    assert_eq!(db.store.tenant(acme.id).directories().await.unwrap().len(), 2);
    assert!(db.store.tenant(globex.id).directories().await.unwrap().is_empty());
    let ids: Vec<DirectoryId> = db.store.tenant(acme.id).directories().await.unwrap().iter().map(|d| d.id).collect();
    assert!(ids.contains(&okta.id) && ids.contains(&entra.id));
}

fn tenant_fields(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::fresh(),
        slug: TenantSlug::parse(slug).unwrap(),
        display_name: slug.to_uppercase(),
        created_at: at(8),
    }
}

/// Polls a future `polls` times, letting its I/O complete in between, then drops it: a
/// request cancelled at each of its await points in turn.
async fn cut_short<F: std::future::Future>(future: F, polls: usize) {
    let mut future = std::pin::pin!(future);
    for _ in 0..polls {
        let poll = std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await;
        if poll.is_ready() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Server processes that start together on PostgreSQL with the owner's URL all start:
/// their migrations and grants take turns instead of one failing on a concurrent update of
/// the same privileges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_as_owner_all_start_on_postgres() {
    store::testing::within_time_limit(async {
        let db = TestDatabase::create(Backend::Postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let options = db.owner_options();
        let start = || Box::pin(Store::connect(&db.url, &options));
        let (a, b, c, d, e, f) = tokio::join!(start(), start(), start(), start(), start(), start());
        for started in [a, b, c, d, e, f] {
            started.unwrap_or_else(|error| panic!("a start failed: {error}"));
        }
    })
    .await;
}

/// Row-level security also walls the credential and people tables (migration 0039): SQL
/// that forgets the tenant sees no token, setup link or admin; with a tenant set, only
/// that tenant's; only a connection that says it works deployment-wide sees all. And the
/// server's role owns nothing, so it cannot turn any of it off (the owner migrated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_people_are_walled_and_the_server_role_owns_nothing_on_postgres() {
    use sqlx::Connection;
    store::testing::within_time_limit(async {
        let db = TestDatabase::create(Backend::Postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let mut tenants = Vec::new();
        for (n, slug) in [(1u8, "acme"), (2, "globex")] {
            let tenant = tenant(&db.store, slug).await;
            let directory = directory(&db.store, &tenant, IdentityProvider::Okta).await;
            insert_token(db.store.tenant(tenant.id), &token(&directory, n)).await.unwrap();
            let link = store::NewSetupLink {
                id: store::SetupLinkId::fresh(),
                digest: [n; 32],
                created_by: "cli".into(),
                created_at: at(9),
                expires_at: at(20),
                sent_to: None,
            };
            let mut action = db.store.tenant(tenant.id).begin_action().await.unwrap();
            action.insert_setup_link(&link).await.unwrap();
            action.commit_without_audit_for_tests().await.unwrap();
            tenants.push(tenant);
        }

        let mut raw = sqlx::PgConnection::connect(db.url.as_str()).await.unwrap();
        let tables = ["directory_tokens", "setup_links", "directories"];
        async fn counts(raw: &mut sqlx::PgConnection, tables: &[&str]) -> Vec<i64> {
            let mut counts = Vec::new();
            for table in tables {
                let sql = format!("SELECT count(*) FROM {table}");
                counts.push(sqlx::query_scalar(&sql).fetch_one(&mut *raw).await.unwrap());
            }
            counts
        }
        // Directories are not walled (they are found by route); the credentials are.
        assert_eq!(counts(&mut raw, &tables).await, [0, 0, 2]);
        sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
            .bind(tenants[0].id.to_string())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(counts(&mut raw, &tables).await, [1, 1, 2]);
        let stolen = sqlx::query("UPDATE setup_links SET expires_at = expires_at WHERE tenant_id = $1")
            .bind(tenants[1].id.as_uuid())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(stolen.rows_affected(), 0, "another tenant's links cannot be changed");
        sqlx::query("RESET app.tenant_id").execute(&mut raw).await.unwrap();
        sqlx::query("SELECT set_config('app.deployment_wide', 'on', false)").execute(&mut raw).await.unwrap();
        assert_eq!(counts(&mut raw, &tables).await, [2, 2, 2]);

        // The server's role cannot take the wall down.
        for sql in [
            "ALTER TABLE setup_links DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE directory_tokens NO FORCE ROW LEVEL SECURITY",
            "DROP POLICY tenant_isolation ON tenant_admins",
            "CREATE TABLE anything (id int)",
        ] {
            let refused = sqlx::query(sql).execute(&mut raw).await.unwrap_err().to_string();
            assert!(refused.contains("must be owner") || refused.contains("permission denied"), "{sql}: {refused}");
        }
        let owned: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
            .fetch_one(&mut raw)
            .await
            .unwrap();
        assert_eq!(owned, 0);

        // The store's own lookups keep working: by a link's digest across tenants, and each
        // tenant's tokens in its scope.
        let found = db.store.setup_link_by_digest(&[2; 32]).await.unwrap().unwrap();
        assert_eq!(found.tenant, tenants[1].id);
        let directories = db.store.tenant(tenants[1].id).directories().await.unwrap();
        let tokens = db.store.tenant(tenants[1].id).directory_tokens(directories[0].id).await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(db.tenants_left_on_pooled_connections().await.unwrap(), Vec::<String>::new());
    })
    .await;
}

/// PostgreSQL's row-level security (migration 0006) holds even for SQL that forgets the
/// tenant: without `app.tenant_id` no SCIM row is visible, with it only that tenant's, and
/// no row of another tenant can be written. (The test role is not a superuser, as the
/// server's should not be.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_level_security_is_a_second_wall_on_postgres() {
    use sqlx::Connection;
    store::testing::within_time_limit(async {
        let db = TestDatabase::create(Backend::Postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let context = store::WriteContext { actor: "test".into(), at: at(11) };
        let mut tenants = Vec::new();
        for (slug, users) in [("acme", 2), ("globex", 3)] {
            let tenant = tenant(&db.store, slug).await;
            let directory = directory(&db.store, &tenant, IdentityProvider::Okta).await;
            let data = db.store.tenant(tenant.id).directory_data(directory.id);
            for n in 0..users {
                let id = format!("{slug}-{n}");
                let state = store::ResourceState {
                    name: id.clone(),
                    external_id: None,
                    doc: serde_json::json!({"userName": id}),
                };
                let change = store::Change {
                    kind: store::ChangeKind::UserCreated,
                    resource_id: id.clone(),
                    data: serde_json::json!({}),
                    view: None,
                };
                data.create(store::ResourceKind::User, &id, &state, &[], &change, &context).await.unwrap();
            }
            tenants.push((tenant, directory));
        }

        let mut raw = sqlx::PgConnection::connect(db.url.as_str()).await.unwrap();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        assert_eq!(count("SELECT count(*) FROM scim_resources").fetch_one(&mut raw).await.unwrap(), 0);
        assert_eq!(count("SELECT count(*) FROM directory_changes").fetch_one(&mut raw).await.unwrap(), 0);
        let (acme, acme_directory) = &tenants[0];
        let (globex, globex_directory) = &tenants[1];
        sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
            .bind(acme.id.to_string())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(count("SELECT count(*) FROM scim_resources").fetch_one(&mut raw).await.unwrap(), 2);
        let forged = sqlx::query(
            "INSERT INTO scim_resources (tenant_id, directory_id, resource_type, id, name, name_folded, doc, \
             doc_folded, version, created_at, last_modified) \
             VALUES ($1, $2, 'User', 'forged', 'x', 'x', '{}', '{}', 1, now(), now())",
        )
        .bind(globex.id.as_uuid())
        .bind(globex_directory.id.as_uuid())
        .execute(&mut raw)
        .await;
        assert!(forged.is_err(), "a row of another tenant cannot be written");
        let updated = sqlx::query("UPDATE scim_resources SET version = version + 1 WHERE directory_id = $1")
            .bind(globex_directory.id.as_uuid())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 0, "another tenant's rows cannot be changed");
        // The store itself keeps working for both tenants.
        let listed = db
            .store
            .tenant(globex.id)
            .directory_data(globex_directory.id)
            .list(
                store::ResourceKind::User,
                &store::ListSpec {
                    filter: None,
                    sort: None,
                    page: store::PageSpec::Offset { skip: 0, take: 10 },
                    hide_self_test: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.total, 3);
        assert_eq!(acme_directory.id, tenants[0].1.id);
        let data = db.store.tenant(globex.id).directory_data(globex_directory.id);
        assert!(data.user_with_groups("globex-1").await.unwrap().is_some());
        assert!(data.resource(store::ResourceKind::User, "globex-2").await.unwrap().is_some());
        // Reads cut short after the tenant was set: their connections are closed, not pooled.
        let everything = store::ListSpec {
            filter: None,
            sort: None,
            page: store::PageSpec::Offset { skip: 0, take: 10 },
            hide_self_test: false,
        };
        for polls in 1..12 {
            cut_short(data.list(store::ResourceKind::User, &everything), polls).await;
            // A dropped connection goes back to the pool (or is closed) in a task of its own.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let left = db.tenants_left_on_pooled_connections().await.unwrap();
            assert_eq!(left, Vec::<String>::new(), "a read cut short after {polls} polls");
        }
        assert_eq!(data.list(store::ResourceKind::User, &everything).await.unwrap().total, 3);
    })
    .await;
}

async fn audit_pages_filter_and_page_by_key_newest_first(db: TestDatabase) {
    let acme = audited_tenant(&db, "acme").await;
    let scope = db.store.tenant(acme.id);
    let failed = store::NewAuditRecord {
        method: Some("PATCH".into()),
        status: Some(409),
        outcome: store::AuditOutcome::Failure,
        ..audit_record(6)
    };
    scope.append_audit(&[failed]).await.unwrap();
    let seqs = |records: Vec<store::AuditRecord>| records.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    let all = store::AuditQuery::default();

    assert_eq!(seqs(scope.audit_page(&all, None, 2).await.unwrap()), [6, 5]);
    assert_eq!(seqs(scope.audit_page(&all, Some(5), 2).await.unwrap()), [4, 3]);
    assert_eq!(seqs(scope.audit_page(&all, Some(2), 2).await.unwrap()), [1]);
    let by_resource = store::AuditQuery { resource_ids: vec!["user-3".into()], ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&by_resource, None, 10).await.unwrap()), [3]);
    let failures = store::AuditQuery { outcome: Some(store::AuditOutcome::Failure), ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&failures, None, 10).await.unwrap()), [6]);
    let patches = store::AuditQuery { operation: Some("patch".into()), ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&patches, None, 10).await.unwrap()), [6]);
    let requests = store::AuditQuery { operation: Some("scim.request".into()), ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&requests, None, 10).await.unwrap()).len(), 6);
    // By its start, and with `%` and `_` taken as themselves.
    let started = store::AuditQuery { operation: Some("scim.".into()), ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&started, None, 10).await.unwrap()).len(), 6);
    for wildcard in ["scim_request", "%request"] {
        let query = store::AuditQuery { operation: Some(wildcard.into()), ..all.clone() };
        assert!(scope.audit_page(&query, None, 10).await.unwrap().is_empty(), "{wildcard}");
    }
    let either = store::AuditQuery { resource_ids: vec!["user-3".into(), "user-5".into()], ..all.clone() };
    assert_eq!(seqs(scope.audit_page(&either, None, 10).await.unwrap()), [5, 3]);
    let window = store::AuditQuery {
        since: Some(at(10) + chrono::Duration::microseconds(3000)),
        until: Some(at(10) + chrono::Duration::microseconds(6000)),
        ..all.clone()
    };
    assert_eq!(seqs(scope.audit_page(&window, None, 10).await.unwrap()), [4, 3]);
    // Another tenant's filter finds nothing of acme's.
    let globex = tenant(&db.store, "globex").await;
    assert!(db.store.tenant(globex.id).audit_page(&all, None, 10).await.unwrap().is_empty());
}

async fn pruning_old_audit_records_keeps_the_rest_of_the_chain_verifiable(db: TestDatabase) {
    let acme = audited_tenant(&db, "acme").await;
    let scope = db.store.tenant(acme.id);
    let records = scope.audit_records(0, 10).await.unwrap();

    let pruned = prune_audit(scope, records[2].occurred_at).await.unwrap();

    assert_eq!(pruned, (2, 2));
    assert_eq!(scope.audit_start().await.unwrap(), (2, records[1].hash));
    assert_eq!(scope.audit_records(0, 10).await.unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(scope.verify_audit_chain().await.unwrap(), store::ChainReport { checked: 5, first_break: None });
    assert_eq!(prune_audit(scope, records[2].occurred_at).await.unwrap(), (0, 0), "pruning twice deletes nothing more");
    // Appending goes on from the head; the chain still verifies.
    scope.append_audit(&[audit_record(6)]).await.unwrap();
    assert_eq!(scope.verify_audit_chain().await.unwrap().first_break, None);
    // Deleting the first kept record is still detected.
    let sql = format!("DELETE FROM audit_records WHERE tenant_id = '{}' AND seq = 3", acme.id);
    assert_eq!(db.execute_as_tenant(acme.id, &sql).await.unwrap(), 1);
    assert_eq!(
        scope.verify_audit_chain().await.unwrap().first_break,
        Some(store::ChainBreak::Gap { expected: 3, found: 4 })
    );
    // Pruning everything leaves an empty, intact chain whose head still guards the end.
    let everything = prune_audit(db.store.tenant(acme.id), at(23)).await.unwrap();
    assert_eq!(everything.1, 6);
    assert_eq!(scope.verify_audit_chain().await.unwrap().first_break, None);
}

fn user_state(name: &str) -> store::ResourceState {
    store::ResourceState { name: name.to_owned(), external_id: None, doc: serde_json::json!({"userName": name}) }
}

fn created(id: &str) -> store::Change {
    store::Change {
        kind: store::ChangeKind::UserCreated,
        resource_id: id.to_owned(),
        data: serde_json::json!({}),
        view: None,
    }
}

fn by_test(hour: u32) -> store::WriteContext {
    store::WriteContext { actor: "test".into(), at: at(hour) }
}

async fn a_write_batch_commits_as_a_whole_and_a_failed_write_undoes_only_itself(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let outside = db.store.tenant(acme.id).directory_data(okta.id);
    let user = store::ResourceKind::User;

    let batch = outside.begin_batch().await.unwrap();
    let inside = batch.data();
    inside.create(user, "u1", &user_state("ada"), &[], &created("u1"), &by_test(10)).await.unwrap();
    let duplicate = inside.create(user, "u2", &user_state("ada"), &[], &created("u2"), &by_test(10)).await;
    inside.create(user, "u3", &user_state("grace"), &[], &created("u3"), &by_test(10)).await.unwrap();
    let group = store::ResourceState {
        name: "Team".into(),
        external_id: None,
        doc: serde_json::json!({"displayName": "Team"}),
    };
    let group_created = store::Change {
        kind: store::ChangeKind::GroupCreated,
        resource_id: "g1".into(),
        data: serde_json::json!({}),
        view: None,
    };
    // A write that fails after numbering its first change record (the group's creation,
    // then its unknown member) leaves no number behind.
    let unknown_member = ["nobody".to_owned()];
    let failed_group =
        inside.create(store::ResourceKind::Group, "g0", &group, &unknown_member, &group_created, &by_test(10)).await;
    assert!(matches!(failed_group, Err(StoreError::UnknownMembers(_))), "{failed_group:?}");
    let members = ["u1".to_owned(), "u3".to_owned()];
    inside.create(store::ResourceKind::Group, "g1", &group, &members, &group_created, &by_test(10)).await.unwrap();
    // Reads by id inside the batch see its writes; outside, nothing is there yet.
    assert_eq!(inside.resource(user, "u3").await.unwrap().unwrap().doc["userName"], "grace");
    assert_eq!(outside.resource(user, "u1").await.unwrap(), None);
    inside
        .delete(
            user,
            "u3",
            None,
            &store::Change { kind: store::ChangeKind::UserDeleted, ..created("u3") },
            &by_test(11),
        )
        .await
        .unwrap();
    batch.commit().await.unwrap();

    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
    assert_eq!(outside.resource(user, "u1").await.unwrap().unwrap().doc["userName"], "ada");
    assert_eq!(outside.resource(user, "u2").await.unwrap(), None);
    assert_eq!(outside.resource(user, "u3").await.unwrap(), None);
    let members = outside.members_of(&["g1".to_owned()]).await.unwrap();
    let member_ids: Vec<&str> = members["g1"].iter().map(|m| m.id.as_str()).collect();
    assert_eq!(member_ids, ["u1"]);
    // The change feed has the committed writes only, numbered without a gap.
    let kinds: Vec<(i64, String)> =
        outside.changes_after(0, 100).await.unwrap().into_iter().map(|c| (c.seq, c.kind)).collect();
    let expected =
        ["user.created", "user.created", "group.created", "group.member_added", "group.member_removed", "user.deleted"];
    assert_eq!(kinds, expected.iter().zip(1..).map(|(kind, seq)| (seq, (*kind).to_owned())).collect::<Vec<_>>());
    // The deployment-wide order has them all, in the same order, and the deletion's
    // revocation has its number.
    let feed = db.store.deployment_feed(&store::FeedQuery { limit: 100, ..Default::default() }).await.unwrap();
    let in_order: Vec<(i64, &str)> =
        feed.iter().filter(|e| e.at.directory == okta.id).map(|e| (e.at.seq, e.kind.as_str())).collect();
    assert_eq!(in_order, expected.iter().zip(1..).map(|(kind, seq)| (seq, *kind)).collect::<Vec<_>>());
    assert!(feed.windows(2).all(|pair| pair[0].at.position <= pair[1].at.position), "{feed:?}");
    let query =
        store::RevocationQuery { directory: Some(okta.id), applied: None, changed_before: None, user: None, limit: 10 };
    let revoked: Vec<(i64, String)> =
        db.store.tenant(acme.id).revocations(&query).await.unwrap().into_iter().map(|r| (r.seq, r.user_id)).collect();
    assert_eq!(revoked, [(6, "u3".to_owned())]);
    // The batch left the directory's change number where its records end.
    outside.create(user, "u4", &user_state("u4"), &[], &created("u4"), &by_test(12)).await.unwrap();
    assert_eq!(outside.changes_after(6, 100).await.unwrap().iter().map(|c| c.seq).collect::<Vec<_>>(), [7]);
}

/// The store checkpoints SQLite's write-ahead log from a task of its own, not inside the
/// commit that fills it (`checkpoint_in_background`). Twenty writes log far fewer than the
/// 1,000 pages after which SQLite's automatic checkpoint would copy them, so the database
/// file grows while the store is open only through the store's own checkpoints.
async fn sqlites_write_ahead_log_is_copied_into_the_database_file_while_the_store_is_open(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    // The migrations' pages reach the file first (it starts as one page), then the writes'.
    let page = 4096;
    let mut before = db.sqlite_file_size();
    for _ in 0..200 {
        if before.is_none_or(|size| size > page) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        before = db.sqlite_file_size();
    }
    for n in 0..20 {
        let id = format!("u{n}");
        let state = store::ResourceState {
            name: id.clone(),
            external_id: None,
            doc: serde_json::json!({"userName": id, "title": "x".repeat(2000)}),
        };
        data.create(store::ResourceKind::User, &id, &state, &[], &created(&id), &by_test(10)).await.unwrap();
    }
    let Some(before) = before else {
        assert_eq!(db.sqlite_file_size(), None, "PostgreSQL has no database file here");
        return;
    };
    assert!(before > page, "the migrations' pages never reached the database file");
    let mut after = before;
    for _ in 0..200 {
        after = db.sqlite_file_size().unwrap();
        if after > before + 20 * 2000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(after > before + 20 * 2000, "the database file stayed at {after} bytes (from {before})");
}

/// `create_all` (a Bulk request's run of creations) stores what `create` stores for each
/// (the rows, the lookup values an `emails` filter uses, the counted total, a user's
/// published view, a group's members, the change records in order), or nothing when a
/// uniqueness rule or an unknown member refuses one of them.
async fn creations_stored_together_are_stored_as_each_alone_or_none_is(db: TestDatabase) {
    use scim::filter::{Filter, check, plan};
    use store::{Creation, ResourceKind};
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    let context = by_test(10);
    let emailed = |name: &str| store::ResourceState {
        name: name.to_owned(),
        external_id: Some(format!("ext-{name}")),
        doc: serde_json::json!({"userName": name, "emails": [{"value": format!("{name}@Acme.example")}]}),
    };
    let published = |id: &str| store::Change {
        view: Some(serde_json::json!({"normalized": {"id": id}, "previous_attributes": {}})),
        ..created(id)
    };
    let group = store::ResourceState {
        name: "Team".into(),
        external_id: None,
        doc: serde_json::json!({"displayName": "Team"}),
    };
    let group_created = store::Change { kind: store::ChangeKind::GroupCreated, ..created("g1") };
    let (ada, grace) = (emailed("ada"), emailed("grace"));
    let (ada_created, grace_created) = (published("u1"), published("u2"));
    let members = ["u1".to_owned(), "u2".to_owned()];
    let creation = |kind, id, state, members, change| Creation { kind, id, state, members, change, context: &context };
    let all = [
        creation(ResourceKind::User, "u1", &ada, &[][..], &ada_created),
        creation(ResourceKind::User, "u2", &grace, &[][..], &grace_created),
        creation(ResourceKind::Group, "g1", &group, &members[..], &group_created),
    ];
    let batch = data.begin_batch().await.unwrap();
    assert!(batch.data().create_all(&all).await.unwrap());
    batch.commit().await.unwrap();

    let stored = data.resource(ResourceKind::User, "u2").await.unwrap().unwrap();
    assert_eq!((stored.doc["userName"].as_str(), stored.version), (Some("grace"), 1));
    let found_by = |filter: &str| {
        let registry = scim::schema::SchemaRegistry::new();
        let parsed = Filter::parse(filter).unwrap();
        let checked =
            check::check(&parsed, &registry.for_resource_type("User"), check::UnknownAttributes::Reject).unwrap();
        let planned = plan::plan(&checked, store::indexed_columns(ResourceKind::User));
        let data = &data;
        async move {
            let spec = store::ListSpec {
                filter: Some(&planned),
                sort: None,
                page: store::PageSpec::Keyset { from: None, descending: false, take: 10 },
                hide_self_test: false,
            };
            data.list(ResourceKind::User, &spec).await.unwrap().records.into_iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(found_by(r#"emails[value eq "GRACE@acme.example"]"#).await, ["u2"]);
    assert_eq!(found_by(r#"userName eq "ADA""#).await, ["u1"]);
    assert_eq!(found_by(r#"externalId eq "ext-grace""#).await, ["u2"]);
    let every = store::ListSpec {
        filter: None,
        sort: None,
        page: store::PageSpec::Keyset { from: Some("u1".into()), descending: false, take: 1 },
        hide_self_test: false,
    };
    assert_eq!(data.list(ResourceKind::User, &every).await.unwrap().total, 2);
    let team = data.members_of(&["g1".to_owned()]).await.unwrap();
    assert_eq!(team["g1"].iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["u1", "u2"]);
    let kinds: Vec<(i64, String)> =
        data.changes_after(0, 100).await.unwrap().into_iter().map(|c| (c.seq, c.kind)).collect();
    let expected = ["user.created", "user.created", "group.created", "group.member_added"];
    assert_eq!(kinds, expected.iter().zip(1..).map(|(kind, seq)| (seq, (*kind).to_owned())).collect::<Vec<_>>());
    // The users' views went out with them (the next re-derivation compares against them).
    let mut action = db.store.tenant(acme.id).begin_action().await.unwrap();
    action.request_republish(okta.id, "test", at(11)).await.unwrap();
    action.commit_without_audit_for_tests().await.unwrap();
    let mut views = Vec::new();
    data.republish_batch(10, &by_test(11), |user| {
        views.push((user.record.id.clone(), user.published.cloned()));
        store::Republished::Unchanged
    })
    .await
    .unwrap();
    let expected_views = ["u1", "u2"].map(|id| (id.to_owned(), Some(serde_json::json!({"id": id}))));
    assert_eq!(views, expected_views);

    // Refused as a whole: a name a stored user has (case aside), two new ones with the
    // same name, a member that is not there.
    let (new, taken, twin) = (emailed("new"), emailed("ADA"), emailed("NEW"));
    let (new_created, taken_created, twin_created) = (created("u3"), created("u4"), created("u5"));
    let nobody = ["nobody".to_owned()];
    let group_again = store::Change { kind: store::ChangeKind::GroupCreated, ..created("g2") };
    let refused: [&[Creation<'_>]; 2] = [
        &[
            creation(ResourceKind::User, "u3", &new, &[][..], &new_created),
            creation(ResourceKind::User, "u4", &taken, &[][..], &taken_created),
        ],
        &[
            creation(ResourceKind::User, "u3", &new, &[][..], &new_created),
            creation(ResourceKind::User, "u5", &twin, &[][..], &twin_created),
        ],
    ];
    for creations in refused {
        let batch = data.begin_batch().await.unwrap();
        assert!(!batch.data().create_all(creations).await.unwrap());
        batch.commit().await.unwrap();
    }
    let batch = data.begin_batch().await.unwrap();
    let unknown_member = [
        creation(ResourceKind::User, "u3", &new, &[][..], &new_created),
        creation(ResourceKind::Group, "g2", &group, &nobody[..], &group_again),
    ];
    let failed = batch.data().create_all(&unknown_member).await;
    assert!(matches!(failed, Err(StoreError::UnknownMembers(_))), "{failed:?}");
    batch.commit().await.unwrap();
    assert_eq!(found_by(r#"userName eq "new""#).await, Vec::<String>::new());
    assert_eq!(found_by(r#"emails[value eq "new@acme.example"]"#).await, Vec::<String>::new());
    assert_eq!(data.list(ResourceKind::User, &every).await.unwrap().total, 2);
    assert_eq!(data.resource(ResourceKind::Group, "g2").await.unwrap(), None);
    // Nothing was numbered: the next write is numbered after the first four.
    data.create(ResourceKind::User, "u6", &user_state("u6"), &[], &created("u6"), &by_test(12)).await.unwrap();
    assert_eq!(data.changes_after(4, 100).await.unwrap().iter().map(|c| c.seq).collect::<Vec<_>>(), [5]);
}

async fn a_write_batch_dropped_before_commit_leaves_nothing(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let outside = db.store.tenant(acme.id).directory_data(okta.id);
    let user = store::ResourceKind::User;

    {
        let batch = outside.begin_batch().await.unwrap();
        let inside = batch.data();
        for n in 0..5 {
            let id = format!("u{n}");
            inside.create(user, &id, &user_state(&id), &[], &created(&id), &by_test(10)).await.unwrap();
        }
    }

    assert_eq!(outside.resource(user, "u0").await.unwrap(), None);
    assert!(outside.changes_after(0, 100).await.unwrap().is_empty());
    // The directory is not left locked: a single write goes through, numbered 1.
    outside.create(user, "u9", &user_state("u9"), &[], &created("u9"), &by_test(12)).await.unwrap();
    assert_eq!(outside.changes_after(0, 100).await.unwrap()[0].seq, 1);
    let gone = db.store.tenant(acme.id).directory_data(DirectoryId::fresh()).begin_batch().await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
}

/// Every page of a listing without a filter tells the directory's total from the count the
/// writes keep (migration 0048): it follows creates, failed creates, deletes, a batch that
/// commits and one that is dropped, per kind and per directory, and agrees with a count of
/// the rows (a filter that matches every user makes the store count them).
async fn a_listing_without_a_filter_tells_the_total_the_writes_kept(db: TestDatabase) {
    use scim::filter::{Filter, check, plan};
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let other = directory(&db.store, &acme, IdentityProvider::Entra).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    let user = store::ResourceKind::User;
    let deleted = |id: &str| store::Change { kind: store::ChangeKind::UserDeleted, ..created(id) };
    for n in 0..7 {
        let id = format!("u{n}");
        data.create(user, &id, &user_state(&id), &[], &created(&id), &by_test(10)).await.unwrap();
    }
    let again = data.create(user, "u9", &user_state("u0"), &[], &created("u9"), &by_test(10)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    data.delete(user, "u3", None, &deleted("u3"), &by_test(11)).await.unwrap();
    {
        let batch = data.begin_batch().await.unwrap();
        for n in 10..15 {
            let id = format!("u{n}");
            batch.data().create(user, &id, &user_state(&id), &[], &created(&id), &by_test(12)).await.unwrap();
        }
    }
    let batch = data.begin_batch().await.unwrap();
    batch.data().create(user, "u20", &user_state("u20"), &[], &created("u20"), &by_test(13)).await.unwrap();
    batch.data().delete(user, "u4", None, &deleted("u4"), &by_test(13)).await.unwrap();
    batch.commit().await.unwrap();
    let other_data = db.store.tenant(acme.id).directory_data(other.id);
    other_data.create(user, "x1", &user_state("x1"), &[], &created("x1"), &by_test(10)).await.unwrap();
    // The wizard's self-test users (hidden from the vendor's product), and ids beside the
    // prefix that are not: `selftest.` sorts right after `selftest-…`, `SELFTEST-` (not the
    // prefix: ids compare case-sensitively) before.
    for id in ["selftest-1", "selftest-2", "selftest.3", "SELFTEST-4"] {
        data.create(user, id, &user_state(id), &[], &created(id), &by_test(14)).await.unwrap();
    }

    // Pages that cannot tell the total by themselves: full, or after a cursor.
    let page = |from: Option<&str>, hide_self_test: bool| store::ListSpec {
        filter: None,
        sort: None,
        page: store::PageSpec::Keyset { from: from.map(str::to_owned), descending: false, take: 2 },
        hide_self_test,
    };
    for spec in [page(None, false), page(Some("u1"), false), page(Some("u6"), false)] {
        assert_eq!(data.list(user, &spec).await.unwrap().total, 10, "{spec:?}");
    }
    for spec in [page(None, true), page(Some("u1"), true), page(Some("selftest"), true)] {
        assert_eq!(data.list(user, &spec).await.unwrap().total, 8, "{spec:?}");
    }
    let every_id = |hide_self_test: bool| {
        let spec = store::ListSpec {
            page: store::PageSpec::Keyset { from: None, descending: false, take: 100 },
            ..page(None, hide_self_test)
        };
        let data = &data;
        async move { data.list(user, &spec).await.unwrap().records.into_iter().map(|r| r.id).collect::<Vec<_>>() }
    };
    let shown = every_id(true).await;
    assert_eq!(shown.len(), 8);
    assert!(shown.iter().all(|id| !id.starts_with("selftest-")), "{shown:?}");
    assert!(shown.contains(&"selftest.3".to_owned()) && shown.contains(&"SELFTEST-4".to_owned()), "{shown:?}");
    assert_eq!(every_id(false).await.len(), 10);
    let counted = {
        let registry = scim::schema::SchemaRegistry::new();
        let filter = Filter::parse(r#"userName pr"#).unwrap();
        let checked =
            check::check(&filter, &registry.for_resource_type("User"), check::UnknownAttributes::Reject).unwrap();
        let planned = plan::plan(&checked, store::indexed_columns(user));
        data.list(user, &store::ListSpec { filter: Some(&planned), ..page(Some("u1"), false) }).await.unwrap().total
    };
    assert_eq!(counted, 10);
    assert_eq!(data.list(store::ResourceKind::Group, &page(Some("g"), false)).await.unwrap().total, 0);
    assert_eq!(other_data.list(user, &page(None, false)).await.unwrap().records.len(), 1);
    assert_eq!(other_data.list(user, &page(Some("a"), false)).await.unwrap().total, 1);
}

/// A live server appends while an operator verifies: the walk must not mistake records
/// appended after it started (or a head that moved on) for a broken chain.
async fn verifying_while_records_are_appended_finds_no_break(db: TestDatabase) {
    let acme = audited_tenant(&db, "acme").await;
    let appender = {
        let store = db.store.clone();
        tokio::spawn(async move {
            for batch in 0..60 {
                let records: Vec<_> = (0..40).map(|n| audit_record(100 + batch * 40 + n)).collect();
                store.tenant(acme.id).append_audit(&records).await.unwrap();
            }
        })
    };
    let scope = db.store.tenant(acme.id);
    let mut walks = 0;
    while !appender.is_finished() {
        let report = scope.verify_audit_chain().await.unwrap();
        assert_eq!(report.first_break, None, "after {} records", report.checked);
        walks += 1;
    }
    appender.await.unwrap();
    let report = scope.verify_audit_chain().await.unwrap();
    assert_eq!((report.checked, report.first_break), (5 + 60 * 40, None), "after {walks} walks");
}

const NHI: &str = "urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User";

/// Stores a user with `doc` (its userName is `id`) at version 1.
async fn put_user(data: &store::DirectoryData<'_>, id: &str, doc: serde_json::Value) -> Result<(), StoreError> {
    let mut doc = doc;
    doc["userName"] = serde_json::json!(id);
    let state = store::ResourceState { name: id.to_owned(), external_id: None, doc };
    let change = store::Change {
        kind: store::ChangeKind::UserCreated,
        resource_id: id.to_owned(),
        data: serde_json::json!({}),
        view: None,
    };
    let context = store::WriteContext { actor: "test".into(), at: at(10) };
    data.create(store::ResourceKind::User, id, &state, &[], &change, &context).await
}

/// Replaces a user's document, expecting it at `version`.
async fn rewrite_user(
    data: &store::DirectoryData<'_>,
    id: &str,
    version: i64,
    doc: serde_json::Value,
) -> Result<(), StoreError> {
    let mut doc = doc;
    doc["userName"] = serde_json::json!(id);
    let state = store::ResourceState { name: id.to_owned(), external_id: None, doc };
    let update = store::Update { expected_version: Some(version), state: Some(&state), members: &[], changes: &[] };
    let context = store::WriteContext { actor: "test".into(), at: at(11) };
    data.update(store::ResourceKind::User, id, &update, &context).await.map(|_| ())
}

async fn active_identities_past_their_expiry_are_found_until_deactivated(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = tenant(&db.store, "globex").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let entra = directory(&db.store, &globex, IdentityProvider::Entra).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    let expiring = |at: &str| serde_json::json!({NHI: {"kind": "agent", "expiresAt": at}});
    put_user(&data, "owner", serde_json::json!({})).await.unwrap();
    put_user(&data, "expired", expiring("2026-11-25T11:00:00Z")).await.unwrap();
    put_user(&data, "expires-now", expiring("2026-11-25T12:00:00+00:00")).await.unwrap();
    put_user(&data, "later", expiring("2026-11-25T13:00:00Z")).await.unwrap();
    let mut inactive = expiring("2026-11-25T10:00:00Z");
    inactive["active"] = serde_json::json!(false);
    put_user(&data, "already-off", inactive).await.unwrap();
    put_user(&data, "forever", serde_json::json!({NHI: {"kind": "serviceAccount"}})).await.unwrap();
    let globex_data = db.store.tenant(globex.id).directory_data(entra.id);
    put_user(&globex_data, "globex-expired", expiring("2026-11-25T09:00:00Z")).await.unwrap();

    let found = db.store.tenant(acme.id).expired_nonhuman_identities(at(12), 10).await.unwrap();

    let ids: Vec<&str> = found.iter().map(|identity| identity.id.as_str()).collect();
    assert_eq!(ids, ["expired", "expires-now"]);
    assert_eq!(found[0].directory, okta.id);
    assert_eq!(found[0].expires_at, at(11));
    let limited = db.store.tenant(acme.id).expired_nonhuman_identities(at(12), 1).await.unwrap();
    assert_eq!(limited.len(), 1);
    rewrite_user(
        &data,
        "expired",
        1,
        serde_json::json!({"active": false, NHI: {"kind": "agent",
        "expiresAt": "2026-11-25T11:00:00Z"}}),
    )
    .await
    .unwrap();
    let left = db.store.tenant(acme.id).expired_nonhuman_identities(at(12), 10).await.unwrap();
    assert_eq!(left.iter().map(|identity| identity.id.as_str()).collect::<Vec<_>>(), ["expires-now"]);
    // Removing the extension or the user removes the identity.
    rewrite_user(&data, "expires-now", 1, serde_json::json!({})).await.unwrap();
    assert_eq!(db.store.tenant(acme.id).expired_nonhuman_identities(at(12), 10).await.unwrap(), vec![]);
    let others = db.store.tenant(globex.id).expired_nonhuman_identities(at(12), 10).await.unwrap();
    assert_eq!(others.iter().map(|identity| identity.id.as_str()).collect::<Vec<_>>(), ["globex-expired"]);
}

async fn an_identity_owned_by_an_unknown_user_or_itself_is_refused(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let other = directory(&db.store, &acme, IdentityProvider::Entra).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    let owned_by = |owner: &str| serde_json::json!({NHI: {"kind": "serviceAccount", "owner": {"value": owner}}});
    put_user(&db.store.tenant(acme.id).directory_data(other.id), "elsewhere", serde_json::json!({})).await.unwrap();

    let unknown = put_user(&data, "bot", owned_by("nobody")).await.unwrap_err();
    let other_directory = put_user(&data, "bot", owned_by("elsewhere")).await.unwrap_err();
    put_user(&data, "bot", serde_json::json!({NHI: {"kind": "agent"}})).await.unwrap();
    let itself = rewrite_user(&data, "bot", 1, owned_by("bot")).await.unwrap_err();

    assert!(matches!(&unknown, StoreError::UnknownOwner(owner) if owner == "nobody"), "{unknown:?}");
    assert!(matches!(other_directory, StoreError::UnknownOwner(_)), "{other_directory:?}");
    assert!(matches!(itself, StoreError::UnknownOwner(_)), "{itself:?}");
    // Nothing of the refused writes was kept.
    let record = data.resource(store::ResourceKind::User, "bot").await.unwrap().unwrap();
    assert_eq!(record.version, 1);
    assert_eq!(db.store.tenant(acme.id).nonhuman_identities(okta.id, 10).await.unwrap().len(), 1);
}

async fn identities_of_a_deactivated_or_deleted_owner_are_flagged(db: TestDatabase) {
    use store::OwnerState;
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let scope = db.store.tenant(acme.id);
    let data = scope.directory_data(okta.id);
    put_user(&data, "ada", serde_json::json!({"active": true})).await.unwrap();
    put_user(&data, "bob", serde_json::json!({})).await.unwrap();
    let owned_by = |owner: &str| {
        serde_json::json!({NHI: {"kind": "serviceAccount", "owner": {"value": owner},
            "expiresAt": "2027-01-01T00:00:00Z"}})
    };
    put_user(&data, "ada-ci", owned_by("ada")).await.unwrap();
    put_user(&data, "bob-agent", serde_json::json!({NHI: {"kind": "agent", "owner": {"value": "bob"}}})).await.unwrap();
    put_user(&data, "stray", serde_json::json!({NHI: {"kind": "agent"}})).await.unwrap();

    let states = |list: &[store::NonHumanIdentity]| {
        list.iter().map(|identity| (identity.id.clone(), identity.owner_state)).collect::<Vec<_>>()
    };
    let before = scope.nonhuman_identities(okta.id, 10).await.unwrap();
    assert_eq!(
        states(&before),
        [
            ("ada-ci".to_owned(), OwnerState::Active),
            ("bob-agent".to_owned(), OwnerState::Active),
            ("stray".to_owned(), OwnerState::NoOwner)
        ]
    );
    assert_eq!(before[0].owner_name.as_deref(), Some("ada"));
    assert_eq!(before[0].kind, scim::nonhuman::NonHumanKind::ServiceAccount);
    assert_eq!(before[0].expires_at, Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()));
    assert_eq!(scope.ownerless_nonhuman_identities(10).await.unwrap(), vec![]);

    rewrite_user(&data, "ada", 1, serde_json::json!({"active": false})).await.unwrap();
    let change = store::Change {
        kind: store::ChangeKind::UserDeleted,
        resource_id: "bob".into(),
        data: serde_json::json!({}),
        view: None,
    };
    let context = store::WriteContext { actor: "test".into(), at: at(12) };
    data.delete(store::ResourceKind::User, "bob", None, &change, &context).await.unwrap();

    let after = scope.nonhuman_identities(okta.id, 10).await.unwrap();
    assert_eq!(
        states(&after),
        [
            ("ada-ci".to_owned(), OwnerState::Deactivated),
            ("bob-agent".to_owned(), OwnerState::Gone),
            ("stray".to_owned(), OwnerState::NoOwner)
        ]
    );
    let flagged = scope.ownerless_nonhuman_identities(10).await.unwrap();
    assert_eq!(
        states(&flagged),
        [("ada-ci".to_owned(), OwnerState::Deactivated), ("bob-agent".to_owned(), OwnerState::Gone)]
    );
    assert!(flagged.iter().all(|identity| identity.owner_state.is_flagged()));
    assert_eq!(flagged[1].owner_name, None);
    // An identity whose owner was deleted can still be written (and so deactivated); a
    // deleted user cannot be named anew.
    let off = serde_json::json!({"active": false, NHI: {"kind": "agent", "owner": {"value": "bob"}}});
    rewrite_user(&data, "bob-agent", 1, off).await.unwrap();
    let adopted = serde_json::json!({NHI: {"kind": "agent", "owner": {"value": "bob"}}});
    let refused = rewrite_user(&data, "stray", 1, adopted).await.unwrap_err();
    assert!(matches!(refused, StoreError::UnknownOwner(_)), "{refused:?}");
}

async fn the_sweeper_and_the_flags_read_identities_by_index(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let data = db.store.tenant(acme.id).directory_data(okta.id);
    put_user(&data, "owner", serde_json::json!({})).await.unwrap();
    for n in 0..1000 {
        put_user(&data, &format!("human-{n}"), serde_json::json!({})).await.unwrap();
    }
    for n in 0..20 {
        let doc = serde_json::json!({NHI: {"kind": "agent", "owner": {"value": "owner"},
            "expiresAt": format!("2026-11-{:02}T00:00:00Z", n + 1)}});
        put_user(&data, &format!("agent-{n}"), doc).await.unwrap();
    }
    db.analyze().await.unwrap();

    let plans = db.store.tenant(acme.id).explain_nonhuman_reads(at(12)).await.unwrap();

    let (expired, ownerless) = (&plans[0], &plans[1]);
    assert!(expired.contains("scim_nonhuman_expiry"), "the sweeper does not use its index:\n{expired}");
    for (plan, read) in [(expired, "sweeper"), (ownerless, "flags")] {
        let scans = plan.lines().any(|line| {
            let line = line.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
            (line.starts_with("SCAN ") && !line.contains("USING INDEX") && !line.contains("PRIMARY KEY"))
                || line.starts_with("Seq Scan")
        });
        assert!(!scans, "the {read} read scans a table:\n{plan}");
    }
}

async fn an_actions_writes_and_its_record_commit_together_or_not_at_all(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let scope = db.store.tenant(acme.id);
    let okta = Directory {
        id: DirectoryId::fresh(),
        idp: IdentityProvider::Okta,
        display_name: "Okta".into(),
        created_at: at(9),
        settings: DirectorySettings::default(),
    };
    let record = store::NewAuditRecord { action: "directory.created".into(), ..audit_record(1) };

    // Dropped before its commit (a later step failed, the request was cancelled): neither
    // the write nor a record is left.
    let mut abandoned = scope.begin_action().await.unwrap();
    abandoned.create_directory(&okta).await.unwrap();
    drop(abandoned);
    assert_eq!(scope.directory(okta.id).await.unwrap(), None);
    assert!(scope.audit_records(0, 10).await.unwrap().is_empty());

    // Committed: both, the record chained like any other.
    let mut action = scope.begin_action().await.unwrap();
    action.create_directory(&okta).await.unwrap();
    action.commit(record.clone()).await.unwrap();
    assert_eq!(scope.directory(okta.id).await.unwrap().map(|d| d.id), Some(okta.id));
    let records = scope.audit_records(0, 10).await.unwrap();
    assert_eq!(records.iter().map(|r| (r.seq, r.action.as_str())).collect::<Vec<_>>(), [(1, "directory.created")]);

    // A write that fails (the directory exists) leaves the action to be dropped: nothing
    // more is recorded, and the chain holds.
    let mut again = scope.begin_action().await.unwrap();
    assert!(again.create_directory(&okta).await.is_err());
    drop(again);
    assert_eq!(scope.audit_records(0, 10).await.unwrap().len(), 1);
    assert_eq!(scope.verify_audit_chain().await.unwrap().first_break, None);
}

/// A statement that runs past the store's statement timeout is cancelled by PostgreSQL
/// (the connection and its locks are freed), and the store goes on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_timeout_is_cancelled_on_postgres() {
    store::testing::within_time_limit(async {
        let db = TestDatabase::create(Backend::Postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let options =
            StoreOptions { statement_timeout: std::time::Duration::from_millis(500), ..StoreOptions::default() };
        let store = Store::connect(&db.url, &options).await.unwrap();
        let started = std::time::Instant::now();
        let slow = TestDatabase::execute_raw(&store, "SELECT pg_sleep(5)").await;
        let error = slow.expect_err("the statement was not cancelled").to_string();
        assert!(error.contains("statement timeout"), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
        store.ping().await.unwrap();
        // Off when zero.
        let unlimited = StoreOptions { statement_timeout: std::time::Duration::ZERO, ..StoreOptions::default() };
        let store = Store::connect(&db.url, &unlimited).await.unwrap();
        TestDatabase::execute_raw(&store, "SELECT pg_sleep(1)").await.unwrap();
    })
    .await;
}
