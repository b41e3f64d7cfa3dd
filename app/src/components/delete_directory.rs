//! Deleting a directory from the portal (a tenant admin, on the directory's dashboard) and
//! from the console (an operator, on the tenant's page): a form that asks for the
//! directory's name as confirmation, the two server functions behind it, and the sentence
//! that tells what happened.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::style::INPUT;
use crate::components::{ErrorBox, shown_once};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, Operator, Portal, directory_id};

/// What the person is told once a directory is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedDirectoryNotice {
    pub directory: String,
    pub message: String,
}

const DANGER_BUTTON: &str = "rounded-lg bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-red-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 \
     focus-visible:outline-red-600";

/// Deletes a directory of the signed-in admin's tenant; `confirmation` must be its name.
#[server(endpoint = "delete_directory")]
pub async fn delete_directory(directory: String, confirmation: String) -> Result<DeletedDirectoryNotice, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let notice = delete_confirmed(&admin.portal, admin.tenant(), id, &confirmation, &admin.actor()).await?;
    // The directory's own pages are gone: the admin lands on their home, which says so.
    crate::error::show_once_after_plain_form_post("/admin", DELETED_DIRECTORY, &notice).await?;
    Ok(notice)
}

/// Deletes a directory of the tenant `slug` from the console (operators, not support);
/// `confirmation` must be its name.
#[server(endpoint = "console_delete_directory")]
pub async fn console_delete_directory(
    slug: String,
    directory: String,
    confirmation: String,
) -> Result<DeletedDirectoryNotice, PortalError> {
    let operator = Operator::require_role(service::OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let id = directory_id(&directory)?;
    let notice = delete_confirmed(&operator.portal, tenant, id, &confirmation, &operator.actor()).await?;
    crate::error::show_once_after_plain_form_post(&format!("/tenants/{slug}"), DELETED_DIRECTORY, &notice).await?;
    Ok(notice)
}

/// The notice of a deleted directory for the one page that shows it.
#[server(endpoint = "take_deletion_notice")]
pub async fn take_deletion_notice(key: String) -> Result<Option<DeletedDirectoryNotice>, PortalError> {
    // An admin's or an operator's: whoever deleted it, in this session.
    crate::portal::Visitor::current()?.account().await?.ok_or_else(PortalError::signed_out)?;
    crate::error::take_shown_once(DELETED_DIRECTORY, &key).await
}

/// The address parameter (and kind of one-time outcome) of a directory's deletion.
pub(crate) const DELETED_DIRECTORY: &str = "directory_deleted";

/// Checks the typed confirmation against the directory's name, then deletes it (see
/// `service::directory_lifecycle::delete_directory`).
#[cfg(feature = "ssr")]
async fn delete_confirmed(
    portal: &Portal,
    tenant: service::TenantId,
    directory: service::DirectoryId,
    confirmation: &str,
    actor: &service::Actor,
) -> Result<DeletedDirectoryNotice, PortalError> {
    use service::directory_lifecycle;
    let name = service::onboarding::directory_setup(&portal.store, tenant, directory).await?.directory.display_name;
    if !confirmation.trim().eq_ignore_ascii_case(&name) {
        return Err(PortalError::Invalid(format!("Type the directory's name, {name}, to confirm its deletion.")));
    }
    let deletion = directory_lifecycle::delete_directory(&portal.store, tenant, directory, actor, portal.now())
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
    let days = portal.settings.deleted_directory_retention_days;
    let kept = match days {
        0 => "its users, groups and events are purged within a minute".to_owned(),
        1 => "its users, groups and events are kept for 1 day, then purged".to_owned(),
        days => format!("its users, groups and events are kept for {days} days, then purged"),
    };
    let at = deletion.deleted_at.format("%Y-%m-%d %H:%M UTC");
    Ok(DeletedDirectoryNotice {
        directory: directory.to_string(),
        message: format!(
            "The {name} directory was deleted at {at}. Its tokens no longer work and it no longer appears \
             anywhere; {kept}."
        ),
    })
}

/// The danger zone of a directory: its name typed into a field, then **Delete directory**,
/// a plain form. From the console (`slug`: the tenant's name in addresses) it posts to
/// [`ConsoleDeleteDirectory`], from the admin's dashboard to [`DeleteDirectory`]; a refusal
/// comes back on the page, and a deletion lands on a page that shows the notice (see
/// [`DeletionOutcome`]).
#[component]
pub(crate) fn DeleteDirectoryForm(
    directory: String,
    name: String,
    #[prop(optional)] slug: Option<String>,
) -> impl IntoView {
    use leptos::server_fn::ServerFn as _;
    let field = format!("delete-confirmation-{directory}");
    let marker = directory.clone();
    let action = if slug.is_some() { ConsoleDeleteDirectory::url() } else { DeleteDirectory::url() };
    view! {
        <form method="post" action=action class="mt-3 flex flex-wrap items-end gap-3" data-delete-directory=marker>
            {slug.map(|slug| view! { <input type="hidden" name="slug" value=slug/> })}
            <input type="hidden" name="directory" value=directory/>
            <div class="w-64">
                <label for=field.clone() class="block text-sm font-medium text-slate-700">
                    {format!("Type {name} to delete this directory")}
                </label>
                <input id=field name="confirmation" type="text" required autocomplete="off" class=INPUT/>
            </div>
            <button type="submit" class=DANGER_BUTTON>"Delete directory"</button>
        </form>
    }
}

/// The notice of a deletion sealed for the page the browser landed on
/// (`?directory_deleted=<key>`), taken when the page renders. Created at the top of the
/// component that owns the page's boundary: one created inside a boundary's content is
/// made again at each walk of it, and the first walk would take the notice from the page.
pub(crate) fn deletion_notice() -> Resource<Result<Option<DeletedDirectoryNotice>, PortalError>> {
    let shown = leptos_router::hooks::use_query_map().with_untracked(|query| query.get(DELETED_DIRECTORY));
    shown_once(shown, take_deletion_notice)
}

/// What the last deletion posted from this page answered: the `notice` saying what
/// happened ([`deletion_notice`]), or why nothing did (a refusal in the address).
#[component]
pub(crate) fn DeletionOutcome(notice: Resource<Result<Option<DeletedDirectoryNotice>, PortalError>>) -> impl IntoView {
    let refusal = crate::components::refusal_of::<DeleteDirectory>()
        .or_else(crate::components::refusal_of::<ConsoleDeleteDirectory>);
    view! {
        <div aria-live="polite">
            {refusal.map(|error| view! { <div id="directory-delete-error"><ErrorBox message=error.to_string()/></div> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match notice.await {
                        Ok(Some(notice)) => view! {
                            <p id="directory-deleted" role="status" class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
                                {notice.message}
                            </p>
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
