//! `/admin/offboarding`: every user the organisation's identity providers deactivated or
//! deleted, and whether (and how fast) the vendor's product confirmed it removed their
//! access. The filters live in the address, so a filtered view can be shared or
//! bookmarked; the same filters export the rows as CSV for auditors.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, ErrorBox, SignedInAdmin};
use crate::error::PortalError;
use crate::pages::audit::encode;

/// The page's filters, as its address carries them (a missing one is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OffboardingFilterForm {
    /// `applied`, `delivered`, `pending`, `overdue` or empty.
    pub status: String,
    /// A directory id, or empty.
    pub directory: String,
    /// A part of the user's name or id.
    pub user: String,
}

impl OffboardingFilterForm {
    /// The query string of these filters (without `?`), empty ones left out.
    pub fn query(&self) -> String {
        [("status", &self.status), ("directory", &self.directory), ("user", &self.user)]
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| format!("{name}={}", encode(value.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The CSV export of the rows these filters show.
    pub fn export_href(&self) -> String {
        match self.query() {
            query if query.is_empty() => "/admin/offboarding/export".to_owned(),
            query => format!("/admin/offboarding/export?{query}"),
        }
    }
}

/// One leaver as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaverRow {
    pub user_name: String,
    pub user_id: String,
    /// The directory's identity provider, e.g. `Okta`.
    pub directory: String,
    /// `Deactivated` or `Deleted`.
    pub change: String,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub requested: String,
    pub delivered: Option<String>,
    pub applied: Option<String>,
    /// `2 min 5 s`.
    pub time_to_revoke: Option<String>,
    /// `applied`, `delivered`, `pending` or `overdue`.
    pub status: String,
}

/// A directory to filter by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryChoice {
    pub id: String,
    pub name: String,
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffboardingView {
    pub rows: Vec<LeaverRow>,
    pub directories: Vec<DirectoryChoice>,
    pub sla_minutes: u32,
    /// The organisation has revocations at all (so an empty table means "none match").
    pub any: bool,
}

/// The badge of a status: its tone and words.
pub fn status_badge(status: &str) -> (&'static str, &'static str) {
    match status {
        "applied" => ("good", "Access removed"),
        "delivered" => ("warn", "Delivered, not confirmed"),
        "pending" => ("neutral", "Not delivered yet"),
        _ => ("bad", "Overdue"),
    }
}

#[server(endpoint = "offboarding")]
pub async fn offboarding(filters: OffboardingFilterForm) -> Result<OffboardingView, PortalError> {
    use service::receipts::{OffboardingFilter, RevocationStatus};
    let admin = crate::portal::Admin::require().await?;
    let sla = admin.portal.settings.revocation_sla();
    let status = match filters.status.trim() {
        "" => None,
        text => Some(
            RevocationStatus::parse(text)
                .ok_or_else(|| PortalError::Invalid("Choose a status from the list.".to_owned()))?,
        ),
    };
    let directories = admin.store().tenant(admin.tenant()).directories().await.map_err(service::ServiceError::from)?;
    let directory = match filters.directory.trim() {
        "" => None,
        text => Some(
            directories
                .iter()
                .find(|d| d.id.to_string() == text)
                .map(|d| d.id)
                .ok_or_else(|| PortalError::Invalid("Choose a directory from the list.".to_owned()))?,
        ),
    };
    let name_of = |id: service::DirectoryId| {
        directories
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| "Deleted directory".to_owned(), |d| d.display_name.clone())
    };
    let now = admin.portal.now();
    let filter = OffboardingFilter { directory, status, user: Some(filters.user.clone()) };
    let rows = service::receipts::offboarding(admin.store(), admin.tenant(), &filter, sla, now).await?;
    let any = if rows.is_empty() && filters != OffboardingFilterForm::default() {
        !service::receipts::offboarding(admin.store(), admin.tenant(), &OffboardingFilter::default(), sla, now)
            .await?
            .is_empty()
    } else {
        !rows.is_empty()
    };
    let time = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M:%S").to_string();
    Ok(OffboardingView {
        rows: rows
            .into_iter()
            .map(|row| LeaverRow {
                user_name: row.revocation.user_name.clone(),
                user_id: row.revocation.user_id.clone(),
                directory: name_of(row.revocation.directory),
                change: if row.revocation.kind == "user.deleted" { "Deleted" } else { "Deactivated" }.to_owned(),
                requested: time(row.revocation.changed_at),
                delivered: row.revocation.delivered_at.map(time),
                applied: row.revocation.applied_at.map(time),
                time_to_revoke: row.time_to_revoke.map(service::receipts::duration_text),
                status: row.status.as_str().to_owned(),
            })
            .collect(),
        directories: directories
            .iter()
            .map(|d| DirectoryChoice { id: d.id.to_string(), name: d.display_name.clone() })
            .collect(),
        sla_minutes: admin.portal.settings.revocation_sla_minutes,
        any,
    })
}

/// `/admin/offboarding`
#[component]
pub fn OffboardingPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <OffboardingScreen admin/> }.into_any()/> }
}

/// Rendered on the server: the filters are a GET form, so the whole page works without
/// the bundle.
#[component]
fn OffboardingScreen(admin: AdminView) -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| OffboardingFilterForm {
            status: q.get("status").unwrap_or_default(),
            directory: q.get("directory").unwrap_or_default(),
            user: q.get("user").unwrap_or_default(),
        })
    });
    let page = Resource::new(move || filters.get(), offboarding);
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <Transition fallback=|| view! {
                <OffboardingHeading sla_minutes=None filters=OffboardingFilterForm::default()/>
                <div class="h-24 animate-pulse rounded-lg bg-slate-100" aria-hidden="true"></div>
            }>
                {move || Suspend::new(async move {
                    let form = filters.get_untracked();
                    match page.await {
                        Ok(view) => view! {
                            <OffboardingHeading sla_minutes=Some(view.sla_minutes) filters=form.clone()/>
                            <OffboardingFilters directories=view.directories.clone() filters=form/>
                            <LeaverSection view/>
                        }.into_any(),
                        Err(error) => view! {
                            <OffboardingHeading sla_minutes=None filters=form/>
                            <ErrorBox message=error.to_string()/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn OffboardingHeading(sla_minutes: Option<u32>, filters: OffboardingFilterForm) -> impl IntoView {
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Offboarding"</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">
                    "Everyone your identity provider deactivated or deleted, and whether the product confirmed it removed their access: when the request came in, when the product received it, when it confirmed, and how long that took."
                    {sla_minutes.map(|minutes| format!(" Confirmations are due within {minutes} minutes."))}
                </p>
            </div>
            <a id="export-offboarding" href=filters.export_href() class=SECONDARY_BUTTON rel="external" download>"Export CSV"</a>
        </div>
    }
    .into_any()
}

#[component]
fn OffboardingFilters(directories: Vec<DirectoryChoice>, filters: OffboardingFilterForm) -> impl IntoView {
    let statuses = [
        ("", "Any"),
        ("overdue", "Overdue"),
        ("delivered", "Delivered, not confirmed"),
        ("pending", "Not delivered yet"),
        ("applied", "Access removed"),
    ];
    view! {
        <section class=CARD aria-labelledby="offboarding-filters-heading">
            <h2 id="offboarding-filters-heading" class="text-lg font-semibold">"Filters"</h2>
            <form method="get" action="/admin/offboarding" class="mt-4 grid items-end gap-4 sm:grid-cols-4">
                <div>
                    <label for="offboarding-status" class="block text-sm font-medium text-slate-700">"Status"</label>
                    <select id="offboarding-status" name="status" class=INPUT>
                        {statuses
                            .into_iter()
                            .map(|(value, label)| view! { <option value=value selected=filters.status == value>{label}</option> }.into_any())
                            .collect_view()}
                    </select>
                </div>
                <div>
                    <label for="offboarding-directory" class="block text-sm font-medium text-slate-700">"Directory"</label>
                    <select id="offboarding-directory" name="directory" class=INPUT>
                        <option value="">"Any"</option>
                        {directories.into_iter().map(|choice| {
                            let selected = filters.directory == choice.id;
                            view! { <option value=choice.id selected=selected>{choice.name}</option> }.into_any()
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="offboarding-user" class="block text-sm font-medium text-slate-700">"User"</label>
                    <input id="offboarding-user" name="user" type="search" placeholder="Name, email or id" class=INPUT
                        value=filters.user/>
                </div>
                <div>
                    <button id="offboarding-filter" type="submit" class=PRIMARY_BUTTON>"Show"</button>
                </div>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn LeaverSection(view: OffboardingView) -> impl IntoView {
    let body = if view.rows.is_empty() {
        let message =
            if view.any { "No leavers match these filters." } else { "Nobody has been deactivated or deleted yet." };
        view! { <p id="no-leavers" class="mt-4 text-sm text-slate-600">{message}</p> }.into_any()
    } else {
        view! { <LeaverTable rows=view.rows/> }.into_any()
    };
    view! {
        <section class=CARD aria-labelledby="leavers-heading">
            <h2 id="leavers-heading" class="text-lg font-semibold">"Leavers"</h2>
            {body}
        </section>
    }
    .into_any()
}

#[component]
fn LeaverTable(rows: Vec<LeaverRow>) -> impl IntoView {
    let counts = |status: &str| rows.iter().filter(|row| row.status == status).count();
    let summary = format!(
        "{} shown: {} removed, {} awaiting confirmation, {} overdue.",
        rows.len(),
        counts("applied"),
        counts("delivered") + counts("pending"),
        counts("overdue")
    );
    view! {
        <p id="leavers-summary" class="mt-1 text-sm text-slate-600">{summary}</p>
        <div class="mt-4 overflow-x-auto" tabindex="0">
            <table id="leavers" class="w-full min-w-[48rem] text-left text-sm">
                <thead class="border-b border-slate-200 text-slate-500">
                    <tr>
                        <th scope="col" class="py-2 pr-3 font-medium">"User"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Directory"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Change"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Requested (UTC)"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Delivered"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Confirmed"</th>
                        <th scope="col" class="py-2 pr-3 font-medium">"Time to revoke"</th>
                        <th scope="col" class="py-2 font-medium">"Status"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 align-top">
                    {rows.into_iter().map(|row| {
                        let (tone, words) = status_badge(&row.status);
                        let (user, status) = (row.user_name.clone(), row.status.clone());
                        view! {
                            <tr data-user=user data-status=status>
                                <td class="py-2 pr-3">
                                    <span class="font-medium text-slate-900">{row.user_name}</span>
                                    <span class="block font-mono text-xs text-slate-500">{row.user_id}</span>
                                </td>
                                <td class="py-2 pr-3">{row.directory}</td>
                                <td class="py-2 pr-3">{row.change}</td>
                                <td class="py-2 pr-3 whitespace-nowrap font-mono text-xs">{row.requested}</td>
                                <td class="py-2 pr-3 whitespace-nowrap font-mono text-xs">{row.delivered.unwrap_or_else(|| "—".to_owned())}</td>
                                <td class="py-2 pr-3 whitespace-nowrap font-mono text-xs">{row.applied.unwrap_or_else(|| "—".to_owned())}</td>
                                <td class="py-2 pr-3 whitespace-nowrap">{row.time_to_revoke.unwrap_or_else(|| "—".to_owned())}</td>
                                <td class="py-2 whitespace-nowrap"><Badge tone=tone text=words.to_owned()/></td>
                            </tr>
                        }
                    }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_make_a_shareable_query_and_an_export_address() {
        let form =
            OffboardingFilterForm { status: "overdue".into(), directory: String::new(), user: "bob smith".into() };
        assert_eq!(form.query(), "status=overdue&user=bob%20smith");
        assert_eq!(form.export_href(), "/admin/offboarding/export?status=overdue&user=bob%20smith");
        assert_eq!(OffboardingFilterForm::default().export_href(), "/admin/offboarding/export");
    }

    #[test]
    fn every_status_has_its_words() {
        assert_eq!(status_badge("applied"), ("good", "Access removed"));
        assert_eq!(status_badge("overdue").0, "bad");
        assert_eq!(status_badge("pending").1, "Not delivered yet");
    }
}
