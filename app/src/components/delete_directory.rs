//! Deleting a directory from the portal (a tenant admin, on the directory's dashboard) and
//! from the console (an operator, on the tenant's page): a form that asks for the
//! directory's name as confirmation, the two server functions behind it, and the sentence
//! that tells what happened.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::ErrorBox;
use crate::components::style::INPUT;
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, Operator, Portal, directory_id};

/// What the person is told once a directory is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedDirectoryNotice {
    pub directory: String,
    pub message: String,
}

/// The delete action of a page: input (directory id, typed confirmation).
pub(crate) type DeleteDirectoryAction = Action<(String, String), Result<DeletedDirectoryNotice, PortalError>>;

const DANGER_BUTTON: &str = "rounded-lg bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-red-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 \
     focus-visible:outline-red-600 disabled:cursor-wait disabled:opacity-60";

/// Deletes a directory of the signed-in admin's tenant; `confirmation` must be its name.
#[server(endpoint = "delete_directory")]
pub async fn delete_directory(directory: String, confirmation: String) -> Result<DeletedDirectoryNotice, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    delete_confirmed(&admin.portal, admin.tenant(), id, &confirmation, &admin.actor()).await
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
    delete_confirmed(&operator.portal, tenant, id, &confirmation, &operator.actor()).await
}

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

/// The danger zone of a directory: its name typed into a field, then **Delete directory**.
/// The page shows what the action answered (see [`DeletionOutcome`]).
#[component]
pub(crate) fn DeleteDirectoryForm(directory: String, name: String, delete: DeleteDirectoryAction) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let field = format!("delete-confirmation-{directory}");
    let expected = name.clone();
    let matches = move || typed.with(|text| text.trim().eq_ignore_ascii_case(&expected));
    let pending = delete.pending();
    view! {
        <form class="mt-3 flex flex-wrap items-end gap-3" data-delete-directory=directory.clone()
            on:submit=move |event| {
                event.prevent_default();
                delete.dispatch((directory.clone(), typed.get_untracked()));
            }>
            <div class="w-64">
                <label for=field.clone() class="block text-sm font-medium text-slate-700">
                    {format!("Type {name} to delete this directory")}
                </label>
                <input id=field type="text" autocomplete="off" class=INPUT
                    on:input=move |event| typed.set(event_target_value(&event))/>
            </div>
            <button type="submit" class=DANGER_BUTTON disabled=move || !matches() || pending.get()>"Delete directory"</button>
        </form>
    }
}

/// What the last deletion of the page answered: the sentence saying what happened, or why
/// nothing did.
#[component]
pub(crate) fn DeletionOutcome(delete: DeleteDirectoryAction) -> impl IntoView {
    let outcome = delete.value();
    view! {
        <div aria-live="polite">
            {move || match outcome.get() {
                Some(Ok(notice)) => view! {
                    <p id="directory-deleted" role="status" class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
                        {notice.message}
                    </p>
                }.into_any(),
                Some(Err(error)) => view! { <div id="directory-delete-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}
