//! `/admin/audit`: the organisation's audit trail for its admins: filters, keyset paging,
//! exports (CSV, JSON Lines), chain verification and the retention period.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, ErrorBox, FollowsTyping, SignedIn, SignedInAdmin, Skeleton, TopBar, refusal_of, shown_once,
};
use crate::error::PortalError;
use crate::pages::dashboard::PageLink;

/// Records per page.
pub const AUDIT_PAGE: i64 = 50;

/// One record as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRowView {
    pub seq: i64,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub time: String,
    /// What happened, in words (`service::activity`).
    pub summary: String,
    /// Who did it, as people know them.
    pub by: String,
    /// The user or group it was about, when still stored: its detail page.
    pub subject_href: Option<String>,
    /// The actor as the record keeps it (`token:<id>`, `admin:<id>`, …).
    pub actor: String,
    /// The record's action (`scim.request`, `token.revoked`, …).
    pub action: String,
    /// `PATCH /scim/v2/…/Users/…` for SCIM requests, the action otherwise.
    pub what: String,
    pub status: Option<i32>,
    pub ok: bool,
    pub resource_id: Option<String>,
    /// The JSON kept with the record (bodies of failed requests, redacted), pretty-printed.
    pub detail: String,
}

/// A page of records, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub rows: Vec<AuditRowView>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The filters of the page, as its form sends them (a missing one is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilterForm {
    pub since: String,
    pub until: String,
    pub outcome: String,
    pub operation: String,
    pub resource: String,
}

impl AuditFilterForm {
    /// The filters given, as `name=value` pairs of a query string.
    fn pairs(&self) -> Vec<String> {
        [
            ("since", &self.since),
            ("until", &self.until),
            ("outcome", &self.outcome),
            ("operation", &self.operation),
            ("resource", &self.resource),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| format!("{name}={}", encode(value.trim())))
        .collect()
    }

    /// The export address with these filters.
    pub fn export_href(&self, format: &str) -> String {
        let mut query = vec![format!("format={format}")];
        query.extend(self.pairs());
        format!("/admin/audit/export?{}", query.join("&"))
    }

    /// The page at `path` with these filters, starting before record `before` (`None`:
    /// the newest), having walked through the newer pages starting at `back`.
    pub fn paging_href(&self, path: &str, before: Option<i64>, back: &[String]) -> String {
        let mut pairs = self.pairs();
        if let Some(before) = before {
            pairs.push(format!("before={before}"));
        }
        if !back.is_empty() {
            pairs.push(format!("back={}", encode(&back.join(","))));
        }
        if pairs.is_empty() { path.to_owned() } else { format!("{path}?{}", pairs.join("&")) }
    }

    /// Whether any filter is set.
    pub fn any(&self) -> bool {
        !self.pairs().is_empty()
    }
}

/// Percent-encodes a query value (unreserved characters stay).
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[server(endpoint = "audit_records")]
pub async fn audit_records(
    filters: AuditFilterForm,
    before: Option<i64>,
    #[server(default)] tenant: String,
) -> Result<AuditPageView, PortalError> {
    // The admin's own trail, or (with the tenant's slug) vendor staff reading it, which the
    // trail itself records first, with the filters they used.
    let (store, tenant_id) = if tenant.is_empty() {
        let admin = crate::portal::Admin::require().await?;
        (admin.store().clone(), admin.tenant())
    } else {
        let operator = crate::portal::Operator::require().await?;
        let tenant_id = operator.tenant(&tenant).await?;
        let detail = serde_json::json!({ "filters": filters.pairs(), "before": before });
        let viewer = operator.actor();
        let now = operator.portal.now();
        service::support::record_view(
            operator.store(),
            tenant_id,
            &viewer,
            "support.viewed_audit",
            "audit trail",
            detail,
            now,
        )
        .await?;
        (operator.store().clone(), tenant_id)
    };
    let (store, slug, tenant) = (&store, tenant, tenant_id);
    let given = |value: String| Some(value).filter(|v| !v.trim().is_empty());
    let filters = service::audit::AuditFilters {
        since: given(filters.since),
        until: given(filters.until),
        outcome: given(filters.outcome),
        operation: given(filters.operation),
        resource: given(filters.resource),
        directory: None,
    };
    let query = filters
        .resolved_query(store, tenant)
        .await?
        .map_err(|message| PortalError::Invalid(service::sentence(&message)))?;
    let records = service::audit::page(store, tenant, &query, before, AUDIT_PAGE + 1).await?;
    let more = records.len() as i64 > AUDIT_PAGE;
    let records: Vec<_> = records.into_iter().take(usize::try_from(AUDIT_PAGE).unwrap_or(50)).collect();
    let described = service::activity::describe_records(store, tenant, &records).await?;
    let rows: Vec<AuditRowView> = records
        .into_iter()
        .zip(described)
        .map(|(record, (detail, activity))| {
            let what = match (&record.method, &record.path) {
                (Some(method), Some(path)) => format!("{method} {path}"),
                _ => record.action.clone(),
            };
            let detail = serde_json::to_string_pretty(&detail).unwrap_or(record.detail);
            let subject_href = record.directory.zip(activity.subject).map(|(directory, subject)| {
                crate::pages::resource::resource_page(&slug, &directory.to_string(), subject.kind.into(), &subject.id)
            });
            AuditRowView {
                seq: record.seq,
                time: record.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                summary: activity.summary,
                by: activity.by,
                subject_href,
                actor: record.actor,
                action: record.action,
                what,
                status: record.status,
                ok: record.outcome == service::audit::Outcome::Success,
                resource_id: record.resource_id,
                detail,
            }
        })
        .collect();
    let next_before = if more { rows.last().map(|row| row.seq) } else { None };
    Ok(AuditPageView { rows, next_before })
}

/// Verifies the organisation's chain and its signed checkpoints; returns sentences saying
/// whether they hold.
#[server(endpoint = "verify_audit_trail")]
pub async fn verify_audit_trail() -> Result<String, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let keys = admin.portal.audit_keys.clone();
    let (store, tenant) = (admin.store(), admin.tenant());
    let report = service::audit::verify_chain(store, tenant).await?;
    let chain = match report.first_break {
        None => format!("Intact: all {} records link up, and none is missing at the end.", report.checked),
        Some(broken) => {
            format!("Broken: {broken}; the {} records before it are intact. Tell your operator.", report.checked)
        }
    };
    let signed = service::audit_checkpoints::verify_kept_checkpoints(store, tenant, &keys).await?;
    let checkpoints = match (signed.problems.first(), signed.latest) {
        (Some(problem), _) => format!(
            "Signed checkpoints do not match: {problem}{}. Tell your operator.",
            match signed.problems.len() {
                1 => String::new(),
                more => format!(" (and {} more problems)", more - 1),
            }
        ),
        (None, Some((seq, at))) => format!(
            "{} signed checkpoints match; the newest signed the chain up to record {seq} on {} UTC.",
            signed.verified + signed.before_kept_start,
            at.format("%Y-%m-%d %H:%M")
        ),
        (None, None) => {
            "No signed checkpoint yet: the chain is signed every ten minutes once it has records.".to_owned()
        }
    };
    let result = format!("{chain} {checkpoints}");
    crate::error::show_once_after_plain_form_post(PAGE, VERIFIED, &result).await?;
    Ok(result)
}

/// The verification a plain form asked for, sealed under `key` for the page it came back
/// to: taken, so it is said once.
#[server(endpoint = "take_audit_verification")]
pub async fn take_audit_verification(key: String) -> Result<Option<String>, PortalError> {
    crate::portal::Admin::require().await?;
    crate::error::take_shown_once(VERIFIED, &key).await
}

/// The admin's audit page.
#[cfg(feature = "ssr")]
const PAGE: &str = "/admin/audit";
/// The address parameter (and kind of one-time outcome) of a verification just made.
const VERIFIED: &str = "verified";
/// The address parameter of a refused retention period, as it was typed.
const RETENTION_DAYS: &str = "retention_days";

/// How long the organisation keeps its audit trail, and the least it may set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionView {
    /// Days as set (`None`: forever).
    pub days: Option<u32>,
    /// The deployment's minimum.
    pub minimum: u32,
}

#[server(endpoint = "audit_retention")]
pub async fn audit_retention() -> Result<RetentionView, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let minimum = admin.portal.settings.audit_retention_minimum_days;
    let days = service::audit::retention(admin.store(), admin.tenant()).await?;
    Ok(RetentionView { days, minimum })
}

/// Sets the retention period: a number of days, or empty to keep records forever.
#[server(endpoint = "set_audit_retention")]
pub async fn set_audit_retention(days: String) -> Result<(), PortalError> {
    let typed = days.clone();
    set_retention_as_typed(days).await.inspect_err(|error| {
        crate::error::back_with_what_was_typed::<SetAuditRetention>(PAGE, &[(RETENTION_DAYS, typed.as_str())], error);
    })
}

#[cfg(feature = "ssr")]
async fn set_retention_as_typed(days: String) -> Result<(), PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let minimum = admin.portal.settings.audit_retention_minimum_days;
    let days = match days.trim() {
        "" => None,
        text => Some(text.replace(',', "").parse::<u32>().map_err(|_| {
            PortalError::Invalid(format!(
                "Enter a number of days from {minimum} to {}, or nothing to keep records forever.",
                service::audit::MAX_RETENTION_DAYS
            ))
        })?),
    };
    let now = admin.portal.now();
    service::audit::set_retention(admin.store(), admin.tenant(), days, minimum, &admin.actor(), now).await?;
    crate::error::after_plain_form_post_go_to(PAGE);
    Ok(())
}

/// `/admin/audit`
#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminTopBar admin/><AuditView tenant=String::new()/> }.into_any()/> }
}

/// `/tenants/{slug}/audit`: the tenant's trail as vendor staff read it (filters and
/// records; their reading is itself recorded in it).
#[component]
pub fn StaffAuditPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TopBar operator/><StaffAuditView/> }.into_any()/> }
}

#[component]
fn StaffAuditView() -> impl IntoView {
    let slug = leptos_router::hooks::use_params_map().read_untracked().get("slug").unwrap_or_default();
    view! { <AuditView tenant=slug/> }
}

/// The trail: the admin's own (`tenant` empty, with exports, the tamper check and the
/// retention period) or a tenant's for vendor staff (`tenant` its slug).
#[component]
fn AuditView(tenant: String) -> impl IntoView {
    let staff = !tenant.is_empty();
    let path = if staff { format!("/tenants/{tenant}/audit") } else { "/admin/audit".to_owned() };
    // The filters live in the address: a filtered view can be shared, and survives a reload.
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| AuditFilterForm {
            since: q.get("since").unwrap_or_default(),
            until: q.get("until").unwrap_or_default(),
            outcome: q.get("outcome").unwrap_or_default(),
            operation: q.get("operation").unwrap_or_default(),
            resource: q.get("resource").unwrap_or_default(),
        })
    });
    // What the inputs show: the filters of the address.
    let initial = filters.get_untracked();
    // Keyset paging in the address: `before` is the page's start, `back` the starts of the
    // newer pages walked through (`top` for the newest), so Newer is a link too.
    let paging = Memo::new(move |_| {
        query.with(|q| {
            let before = q.get_str("before").and_then(|before| before.parse::<i64>().ok());
            let back: Vec<String> =
                q.get("back").map(|back| back.split(',').map(str::to_owned).collect()).unwrap_or_default();
            (before, back)
        })
    });
    let reader = tenant.clone();
    let records = Resource::new(
        move || (filters.get(), paging.get().0, reader.clone()),
        |(filters, before, reader)| audit_records(filters, before, reader),
    );
    let page_path = path.clone();
    let form_action = path;
    let field = |id: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 placeholder: &'static str,
                 value: String| {
        view! {
            <div>
                <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
                <input id=id name=id.trim_start_matches("audit-") type=kind placeholder=placeholder class=INPUT value=value/>
            </div>
        }
    };
    view! {
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    {staff.then(|| view! {
                        <a href=format!("/tenants/{tenant}") class="text-sm font-medium text-accent-strong hover:text-accent-strong">"← Tenant"</a>
                    })}
                    <h1 class="text-2xl font-bold tracking-tight">"Audit trail"</h1>
                    <p class="mt-1 text-sm text-slate-600">
                        {if staff {
                            "The tenant's trail, newest first. Read-only; your reading is recorded in it, with the filters you use."
                        } else {
                            "Every SCIM request and every admin, operator and support action, newest first. Each record carries the hash of the one before it."
                        }}
                    </p>
                </div>
                {(!staff).then(|| view! {
                    <div id="audit-exports" class="flex gap-3">
                        <a id="export-csv" href=move || filters.with(|f| f.export_href("csv")) class=SECONDARY_BUTTON rel="external" download>"Export CSV"</a>
                        <a id="export-jsonl" href=move || filters.with(|f| f.export_href("jsonl")) class=SECONDARY_BUTTON rel="external" download>"Export JSON Lines"</a>
                    </div>
                })}
            </div>
            <section class=CARD aria-labelledby="filters-heading">
                <h2 id="filters-heading" class="text-lg font-semibold">"Filters"</h2>
                // Typing applies the filters once the typist pauses, while the bundle runs.
                <FollowsTyping regions=vec!["audit-exports".to_owned(), "audit-records".to_owned()]>
                <form method="get" action=form_action class="mt-4 grid items-end gap-4 sm:grid-cols-6">
                    {field("audit-since", "From (UTC)", "date", "", initial.since.clone())}
                    {field("audit-until", "Through (UTC)", "date", "", initial.until.clone())}
                    <div>
                        <label for="audit-outcome" class="block text-sm font-medium text-slate-700">"Outcome"</label>
                        <select id="audit-outcome" name="outcome" class=INPUT>
                            {[("", "Any"), ("success", "Success"), ("failure", "Failure")].into_iter().map(|(value, label)| view! {
                                <option value=value selected=initial.outcome == value>{label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    {field("audit-operation", "Operation", "text", "PATCH or token", initial.operation.clone())}
                    {field("audit-resource", "User or group", "text", "Email, name or id", initial.resource)}
                    <div><button id="audit-filter" type="submit" class=PRIMARY_BUTTON>"Show"</button></div>
                </form>
                </FollowsTyping>
            </section>
            <section id="audit-records" class=CARD aria-labelledby="records-heading">
                <h2 id="records-heading" class="text-lg font-semibold">"Records"</h2>
                <Transition fallback=|| view! { <Skeleton/> }>
                {move || {
                    let page_path = page_path.clone();
                    let (before, back) = paging.get();
                    let form = filters.get();
                    Suspend::new(async move {
                    match records.await {
                        Ok(page) if page.rows.is_empty() => {
                            let message = if form.any() { "No records match these filters." } else { "No records yet." };
                            view! { <p id="no-records" class="mt-4 text-sm text-slate-600">{message}</p> }.into_any()
                        }
                        Ok(page) => {
                            let older = page.next_before.map(|next| {
                                let mut walked = back.clone();
                                walked.push(before.map_or_else(|| "top".to_owned(), |before| before.to_string()));
                                form.paging_href(&page_path, Some(next), &walked)
                            });
                            let newer = back.split_last().map(|(last, rest)| {
                                form.paging_href(&page_path, last.parse::<i64>().ok(), rest)
                            });
                            view! {
                                <AuditTable rows=page.rows/>
                                <nav class="mt-3 flex justify-end gap-2" aria-label="Pages of records">
                                    <PageLink id="audit-newer" label="Newer" href=newer/>
                                    <PageLink id="audit-older" label="Older" href=older/>
                                </nav>
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                    })
                }}
                </Transition>
            </section>
            {(!staff).then(|| view! { <AdminAuditTools/> })}
        </main>
    }
}

/// A page of records, newest first, each with its raw record folded.
#[component]
fn AuditTable(rows: Vec<AuditRowView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="audit-table" class="mt-4 w-full table-fixed text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="w-40 py-2 font-medium">"Time (UTC)"</th>
                    <th scope="col" class="w-48 py-2 font-medium">"Who"</th>
                    <th scope="col" class="py-2 font-medium">"What"</th>
                    <th scope="col" class="w-24 py-2 font-medium">"Outcome"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100 align-top">
                {rows.into_iter().map(|row| view! {
                    <tr data-seq=row.seq>
                        <td class="py-2 font-mono text-xs">{row.time}</td>
                        <td class="py-2 break-words text-xs">{row.by}</td>
                        <td class="py-2 break-words">
                            <span class="audit-summary">{row.summary}</span>
                            {row.subject_href.map(|href| view! {
                                <a href=href class="ml-2 text-xs font-medium text-accent-strong hover:text-accent-strong">"Open"</a>
                            })}
                            <details class="mt-1">
                                <summary class="cursor-pointer text-xs text-slate-600">"Raw record"</summary>
                                <dl class="mt-1 grid grid-cols-[auto_1fr] gap-x-3 text-xs">
                                    <dt class="text-slate-500">"Request"</dt><dd class="break-all font-mono">{row.what}</dd>
                                    <dt class="text-slate-500">"Action"</dt><dd class="font-mono">{row.action}</dd>
                                    <dt class="text-slate-500">"Actor"</dt><dd class="break-all font-mono">{row.actor}</dd>
                                    {row.resource_id.map(|id| view! { <dt class="text-slate-500">"Resource"</dt><dd class="break-all font-mono">{id}</dd> })}
                                </dl>
                                <pre tabindex="0" class="mt-1 overflow-x-auto rounded bg-slate-900 p-2 text-xs text-slate-100">{row.detail}</pre>
                            </details>
                        </td>
                        <td class="py-2">
                            <Badge tone=if row.ok { "good" } else { "bad" } text=row.status.map_or_else(|| (if row.ok { "Done" } else { "Failed" }).to_owned(), |s| s.to_string())/>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// The admin's own tools beside the trail: the tamper check and the retention period.
#[component]
fn AdminAuditTools() -> impl IntoView {
    let (verified, typed) = use_query_map().with_untracked(|query| (query.get(VERIFIED), query.get(RETENTION_DAYS)));
    let verification = shown_once(verified, take_audit_verification);
    let retention = Resource::new(|| (), |_| audit_retention());
    let refused = refusal_of::<SetAuditRetention>();
    let typed = refused.is_some().then_some(typed).flatten();
    view! {
            <div class="grid gap-8 md:grid-cols-2">
                <section class=CARD aria-labelledby="verify-heading">
                    <h2 id="verify-heading" class="text-lg font-semibold">"Tamper check"</h2>
                    <p class="mt-1 text-sm text-slate-600">"Recomputes every record's hash, checks that each links to the one before it, and checks the chain against its checkpoints, signed every ten minutes with the deployment's key. Keep an exported copy of the checkpoints: it proves later that no record was rewritten."</p>
                    <form method="post" action=VerifyAuditTrail::url() class="mt-4 flex flex-wrap gap-3">
                        <button id="verify-chain" type="submit" class=PRIMARY_BUTTON>"Verify the chain"</button>
                        <a id="export-checkpoints" href="/admin/audit/checkpoints" class=SECONDARY_BUTTON rel="external" download>"Export signed checkpoints"</a>
                    </form>
                    <p id="verify-result" class="mt-3 text-sm" aria-live="polite">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                match verification.await {
                                    Ok(result) => result,
                                    Err(error) => Some(error.to_string()),
                                }
                            })}
                        </Suspense>
                        {refusal_of::<VerifyAuditTrail>().map(|error| error.to_string())}
                    </p>
                </section>
                <section class=CARD aria-labelledby="retention-heading">
                    <h2 id="retention-heading" class="text-lg font-semibold">"Retention"</h2>
                    <Suspense fallback=|| ()>
                        {move || {
                            let typed = typed.clone();
                            Suspend::new(async move {
                                let loaded = retention.await;
                                let current = match &loaded {
                                    Ok(RetentionView { days: Some(days), minimum }) => format!(
                                        "Records older than {} days are deleted (checked every ten minutes); each deletion is itself recorded, and the chain is signed just before and after.",
                                        days.max(minimum)
                                    ),
                                    Ok(RetentionView { days: None, minimum }) => format!("Records are kept forever. This deployment keeps them at least {minimum} days."),
                                    Err(error) => error.to_string(),
                                };
                                let minimum = loaded.as_ref().ok().map(|view| format!("At least {} days.", view.minimum));
                                let days = typed.or_else(|| loaded.ok().and_then(|view| view.days).map(|days| days.to_string()));
                                view! {
                                    <p id="retention-current" class="mt-1 text-sm text-slate-600">{current}</p>
                                    <form method="post" action=SetAuditRetention::url() class="mt-4 flex items-end gap-3">
                                        <div>
                                            <label for="retention-days" class="block text-sm font-medium text-slate-700">"Days to keep (empty: forever)"</label>
                                            <p id="retention-minimum" class="text-xs text-slate-500">{minimum}</p>
                                            <input id="retention-days" name="days" inputmode="numeric" class=INPUT value=days.unwrap_or_default()/>
                                        </div>
                                        <button id="save-retention" type="submit" class=SECONDARY_BUTTON>"Save"</button>
                                    </form>
                                }
                            })
                        }}
                    </Suspense>
                    {refused.map(|error| view! { <ErrorBox message=error.to_string()/> })}
                </section>
            </div>
    }
}
