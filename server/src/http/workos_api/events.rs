//! `GET /events`: the deployment's Directory Sync events.

use axum::extract::State;
use service::directory_sync;

use super::{Answer, ApiKey, List, Params, list};
use crate::http::AppState;

/// `GET /events` (`events`, required; `organization_id`, `range_start`, `range_end`,
/// `after`, `limit`): the deployment's Directory Sync events, oldest first.
pub(super) async fn list_events(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::SyncEvent>> {
    let page = params.page()?;
    let query = directory_sync::EventQuery {
        events: params.list("events"),
        organization: params.owned("organization_id"),
        range_start: params.owned("range_start"),
        range_end: params.owned("range_end"),
        after: params.owned("after"),
        limit: page.limit,
    };
    Ok(list(directory_sync::read_events(&state.store, &query, state.effects.now()).await?))
}
