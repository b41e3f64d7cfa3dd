//! Demo mode (`server --demo`, off by default): a tenant, `demo`, whose directory is
//! provisioned by a simulated identity provider built into the server, so that someone
//! trying the product sees a live dashboard, audit trail, support console and event feed
//! within a minute of the first command, with nothing to configure.
//!
//! The simulated provider is a client like any other: it sends real SCIM requests over
//! HTTP to the server's own endpoint with a bearer token of the directory, in the shapes
//! Okta sends (the directory's dialect), so everything downstream (audit, events,
//! webhooks, roles, the safety brake) sees what it would see from Okta. It first fills an
//! empty directory with a company's people and teams, then keeps a trickle going: a title
//! changes, someone joins or leaves a team, a new hire arrives, a leaver is deactivated;
//! and once a minute it sends a request that fails (a new hire whose `userName` is taken),
//! so the support console has a failure to explain.

use std::time::Duration;

use serde_json::{Value, json};
use store::{DirectoryId, IdentityProvider, Store, TenantId, TenantSlug};

use crate::actor::Actor;
use crate::directories::{self, NewDirectory, TokenRequest};
use crate::scim_client::ScimClient;
use crate::{Effects, ServiceError};

/// The demo tenant's name in addresses.
pub const TENANT: &str = "demo";
/// Its display name.
pub const TENANT_NAME: &str = "Demo Company";
/// The demo tenant's admin, who signs in to see the dashboard.
pub const ADMIN_EMAIL: &str = "admin@demo.example";
/// The label of the simulated provider's token (a new one each start; older ones revoked).
pub const TOKEN_LABEL: &str = "Simulated identity provider (demo mode)";

/// What demo mode runs against.
#[derive(Clone)]
pub struct Demo {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    /// The simulated provider's bearer token.
    pub token: String,
    /// The demo admin's password when the account was made by this start (shown once);
    /// `None` when it existed already.
    pub new_admin_password: Option<String>,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the token nor the password.
        f.debug_struct("Demo").field("tenant", &self.tenant).field("directory", &self.directory).finish_non_exhaustive()
    }
}

/// Makes (or finds) the demo tenant, its Okta directory and its admin, and issues the
/// simulated provider a fresh token, revoking the ones earlier starts issued. Each step
/// is the product's own use case, so each is in the tenant's audit trail as `system`.
pub async fn prepare(store: &Store, admin_password: Option<&str>, effects: &Effects) -> Result<Demo, ServiceError> {
    let actor = Actor::System;
    let slug = TenantSlug::parse(TENANT).map_err(|error| ServiceError::Internal(error.to_string()))?;
    let tenant = match store.tenant_by_slug(&slug).await? {
        Some(tenant) => tenant,
        None => crate::tenants::create(store, TENANT, TENANT_NAME, &actor, effects)
            .await
            .map_err(|error| ServiceError::Internal(format!("making the demo tenant: {error}")))?,
    };
    let scope = store.tenant(tenant.id);
    let existing = scope.directories().await?.into_iter().find(|d| d.idp == IdentityProvider::Okta);
    let directory = match existing {
        Some(directory) => directory,
        None => {
            let new = NewDirectory { idp: IdentityProvider::Okta, settings: Default::default(), first_token: None };
            directories::add_directory(store, tenant.id, new, None, &actor, effects)
                .await
                .map_err(|error| ServiceError::Internal(format!("making the demo directory: {error}")))?
                .0
        }
    };
    let now = effects.now();
    for old in scope.directory_tokens(directory.id).await? {
        if old.label == TOKEN_LABEL && old.revoked_at.is_none() {
            directories::revoke_token(store, tenant.id, directory.id, old.id, &actor, now).await?;
        }
    }
    let request = TokenRequest { label: TOKEN_LABEL.to_owned(), read_only: false, expires_at: None };
    let token = directories::issue_token(store, tenant.id, directory.id, request, &actor, effects)
        .await?
        .ok_or_else(|| ServiceError::Internal("the demo directory vanished".to_owned()))?;
    let new_admin_password = if scope.tenant_admins().await?.iter().any(|admin| admin.email == ADMIN_EMAIL) {
        None
    } else {
        let password = admin_password.map_or_else(|| crate::operators::generate_password(effects), str::to_owned);
        make_admin(store, tenant.id, &password, effects).await?;
        Some(password)
    };
    Ok(Demo { tenant: tenant.id, directory: directory.id, token: token.secret, new_admin_password })
}

/// The demo admin, made the way a customer's admin is (a setup link, redeemed), with the
/// email confirmed by the deployment itself: nobody reads `admin@demo.example`.
async fn make_admin(store: &Store, tenant: TenantId, password: &str, effects: &Effects) -> Result<(), ServiceError> {
    let actor = Actor::System;
    let failed =
        |error: crate::admins::SetupLinkError| ServiceError::Internal(format!("making the demo admin: {error}"));
    let link = crate::admins::create_setup_link(store, tenant, &actor, chrono::Duration::hours(1), effects)
        .await
        .map_err(failed)?;
    let admin = crate::admins::redeem_setup_link(store, &link.secret, ADMIN_EMAIL, password.to_owned(), effects)
        .await
        .map_err(failed)?;
    crate::email_confirmation::confirm_by_operator(store, &actor, tenant, admin.id, effects.now())
        .await
        .map_err(|error| ServiceError::Internal(format!("confirming the demo admin: {error}")))
}

/// The people of the demo company: (given name, family name, title, team).
const PEOPLE: [(&str, &str, &str, &str); 16] = [
    ("Ada", "Lovelace", "Staff Engineer", "Engineering"),
    ("Grace", "Hopper", "Engineering Manager", "Engineering"),
    ("Alan", "Turing", "Principal Engineer", "Engineering"),
    ("Katherine", "Johnson", "Data Scientist", "Engineering"),
    ("Linus", "Pauling", "Account Executive", "Sales"),
    ("Marie", "Curie", "Head of Sales", "Sales"),
    ("Rosalind", "Franklin", "Sales Engineer", "Sales"),
    ("Niels", "Bohr", "Support Engineer", "Support"),
    ("Lise", "Meitner", "Support Lead", "Support"),
    ("Carl", "Gauss", "Finance Analyst", "Finance"),
    ("Emmy", "Noether", "Controller", "Finance"),
    ("Hedy", "Lamarr", "Product Manager", "Product"),
    ("Tim", "Berners-Lee", "Product Designer", "Product"),
    ("Barbara", "Liskov", "Security Engineer", "Engineering"),
    ("Edsger", "Dijkstra", "Site Reliability Engineer", "Engineering"),
    ("Frances", "Allen", "Recruiter", "People"),
];

/// Titles a trickle update moves people between.
const TITLES: [&str; 5] = ["Senior Engineer", "Team Lead", "Director", "Specialist", "Manager"];

/// Later hires, one per `hire` step, until the list runs out (then leavers come back).
const LATER_HIRES: [(&str, &str); 8] = [
    ("Claude", "Shannon"),
    ("Mary", "Jackson"),
    ("John", "Bardeen"),
    ("Dorothy", "Vaughan"),
    ("Richard", "Feynman"),
    ("Chien-Shiung", "Wu"),
    ("Srinivasa", "Ramanujan"),
    ("Jocelyn", "Bell"),
];

fn user_name(given: &str, family: &str) -> String {
    format!("{}.{}@demo.example", given.to_lowercase(), family.to_lowercase().replace(' ', ""))
}

/// A user as Okta creates one.
fn okta_user(given: &str, family: &str, title: &str) -> Value {
    let email = user_name(given, family);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "title": title,
        "externalId": format!("00u{}", email.len() * 7919 + given.len()),
        "active": true,
    })
}

/// The simulated provider: one SCIM client on the directory's endpoint.
pub struct SimulatedProvider {
    scim: ScimClient,
    /// (id, userName, active) of the users it knows.
    users: Vec<(String, String, bool)>,
    /// (id, displayName, member ids) of the groups it knows.
    groups: Vec<(String, String, Vec<String>)>,
    hired: usize,
    step: u64,
}

impl std::fmt::Debug for SimulatedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("SimulatedProvider").field("scim", &self.scim).field("users", &self.users.len()).finish()
    }
}

/// What one step of the trickle did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub request: String,
    pub status: u16,
}

impl SimulatedProvider {
    pub fn new(base: String, token: String) -> Self {
        let client = reqwest::Client::builder()
            .user_agent("Okta SCIM Client 1.0.0 (demo mode)")
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self { scim: ScimClient::new(client, base, token), users: Vec::new(), groups: Vec::new(), hired: 0, step: 0 }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        self.scim.send(method, path, body).await.map_err(|error| error.to_string())
    }

    /// Reads what the directory holds already (a restart), else provisions the company:
    /// its people, then its teams with their members.
    pub async fn start(&mut self) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        let (_, users) = self.send(reqwest::Method::GET, "/Users?count=500", None).await?;
        for user in users["Resources"].as_array().into_iter().flatten() {
            let id = user["id"].as_str().unwrap_or_default().to_owned();
            let name = user["userName"].as_str().unwrap_or_default().to_owned();
            self.users.push((id, name, user["active"].as_bool().unwrap_or(true)));
        }
        let (_, groups) = self.send(reqwest::Method::GET, "/Groups?count=100", None).await?;
        for group in groups["Resources"].as_array().into_iter().flatten() {
            let id = group["id"].as_str().unwrap_or_default().to_owned();
            let name = group["displayName"].as_str().unwrap_or_default().to_owned();
            let members = group["members"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["value"].as_str())
                .map(str::to_owned);
            self.groups.push((id, name, members.collect()));
        }
        self.hired = self.users.len().saturating_sub(PEOPLE.len()).min(LATER_HIRES.len());
        if !self.users.is_empty() {
            return Ok(steps);
        }
        for (given, family, title, _) in PEOPLE {
            steps.push(self.create_user(given, family, title).await?);
        }
        let teams: Vec<&str> = PEOPLE.iter().map(|(.., team)| *team).fold(Vec::new(), |mut teams, team| {
            if !teams.contains(&team) {
                teams.push(team);
            }
            teams
        });
        for team in teams {
            let members: Vec<String> = PEOPLE
                .iter()
                .filter(|(.., t)| *t == team)
                .filter_map(|(given, family, ..)| {
                    let name = user_name(given, family);
                    self.users.iter().find(|(_, n, _)| *n == name).map(|(id, ..)| id.clone())
                })
                .collect();
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": team,
                "members": members.iter().map(|id| json!({"value": id})).collect::<Vec<_>>(),
            });
            let (status, created) = self.send(reqwest::Method::POST, "/Groups", Some(&body)).await?;
            if let Some(id) = created["id"].as_str() {
                self.groups.push((id.to_owned(), team.to_owned(), members));
            }
            steps.push(Step { request: format!("POST /Groups ({team})"), status });
        }
        Ok(steps)
    }

    async fn create_user(&mut self, given: &str, family: &str, title: &str) -> Result<Step, String> {
        let (status, created) =
            self.send(reqwest::Method::POST, "/Users", Some(&okta_user(given, family, title))).await?;
        if let Some(id) = created["id"].as_str() {
            self.users.push((id.to_owned(), user_name(given, family), true));
        }
        Ok(Step { request: format!("POST /Users ({})", user_name(given, family)), status })
    }

    /// One request of the trickle; every `failing_every`-th step is the failing one.
    pub async fn next(&mut self, failing_every: u64) -> Result<Step, String> {
        self.step += 1;
        if failing_every > 0 && self.step.is_multiple_of(failing_every) {
            // Okta retrying a create for someone who exists already: 409 uniqueness.
            let (given, family, title, _) = PEOPLE[usize::try_from(self.step).unwrap_or(0) % PEOPLE.len()];
            let (status, _) =
                self.send(reqwest::Method::POST, "/Users", Some(&okta_user(given, family, title))).await?;
            return Ok(Step { request: format!("POST /Users ({}, taken)", user_name(given, family)), status });
        }
        let pick = usize::try_from(self.step).unwrap_or(0);
        match self.step % 5 {
            // A title changes.
            0 | 1 => {
                let Some((id, name, _)) =
                    self.users.iter().filter(|(.., active)| *active).nth(pick % self.active().max(1))
                else {
                    return self.hire().await;
                };
                let (id, name) = (id.clone(), name.clone());
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "value": {"title": TITLES[pick % TITLES.len()]}}],
                });
                let (status, _) = self.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(&body)).await?;
                Ok(Step { request: format!("PATCH /Users ({name}: title)"), status })
            }
            // Someone joins or leaves a team.
            2 => self.membership(pick).await,
            // A new hire, or a leaver.
            3 => self.hire().await,
            _ => self.leave_or_return(pick).await,
        }
    }

    fn active(&self) -> usize {
        self.users.iter().filter(|(.., active)| *active).count()
    }

    async fn membership(&mut self, pick: usize) -> Result<Step, String> {
        if self.groups.is_empty() || self.users.is_empty() {
            return self.hire().await;
        }
        let group = pick % self.groups.len();
        let user = self.users[pick % self.users.len()].0.clone();
        let (id, name, members) = &self.groups[group];
        let (id, name) = (id.clone(), name.clone());
        let removing = members.contains(&user);
        // Okta's shapes: `add` with a members array, `remove` with a filtered path.
        let operation = if removing {
            json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
        } else {
            json!({"op": "add", "path": "members", "value": [{"value": user}]})
        };
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]});
        let (status, _) = self.send(reqwest::Method::PATCH, &format!("/Groups/{id}"), Some(&body)).await?;
        if (200..300).contains(&status) {
            let members = &mut self.groups[group].2;
            if removing {
                members.retain(|member| *member != user);
            } else {
                members.push(user);
            }
        }
        let verb = if removing { "leaves" } else { "joins" };
        Ok(Step { request: format!("PATCH /Groups ({name}: someone {verb})"), status })
    }

    async fn hire(&mut self) -> Result<Step, String> {
        match LATER_HIRES.get(self.hired) {
            Some((given, family)) => {
                self.hired += 1;
                self.create_user(given, family, "New Hire").await
            }
            None => self.leave_or_return(usize::try_from(self.step).unwrap_or(0)).await,
        }
    }

    /// Deactivates an active user while most are active, else brings a leaver back.
    async fn leave_or_return(&mut self, pick: usize) -> Result<Step, String> {
        if self.users.is_empty() {
            return Err("the directory has no users".to_owned());
        }
        let returning = self.active() * 4 < self.users.len() * 3;
        let Some(index) =
            (0..self.users.len()).map(|n| (n + pick) % self.users.len()).find(|n| self.users[*n].2 != returning)
        else {
            return Err("no user to change".to_owned());
        };
        let (id, name, _) = self.users[index].clone();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": returning}}],
        });
        let (status, _) = self.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(&body)).await?;
        if (200..300).contains(&status) {
            self.users[index].2 = returning;
        }
        let what = if returning { "returns" } else { "leaves: deactivated" };
        Ok(Step { request: format!("PATCH /Users ({name} {what})"), status })
    }
}

/// Runs the simulated provider until the task is aborted: the company first (after which
/// the directory's setup is complete, as with a real provider's first provisioning), then
/// a request every `every`, one in `failing_every` of them failing.
pub async fn run(store: Store, demo: Demo, base: String, every: Duration, failing_every: u64, effects: Effects) {
    let mut provider = SimulatedProvider::new(base, demo.token.clone());
    // The server is starting: wait until it answers.
    let mut delay = Duration::from_millis(200);
    loop {
        match provider.start().await {
            Ok(steps) => {
                if !steps.is_empty() {
                    tracing::info!(
                        requests = steps.len(),
                        "demo mode: the simulated identity provider provisioned the company"
                    );
                }
                break;
            }
            Err(error) => {
                tracing::debug!(%error, "demo mode: the server does not answer yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    if let Err(error) =
        crate::onboarding::complete_if_provisioned(&store, demo.tenant, demo.directory, effects.now()).await
    {
        tracing::warn!(%error, "demo mode: the directory's setup could not be marked complete");
    }
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match provider.next(failing_every).await {
            Ok(step) => tracing::debug!(request = %step.request, status = step.status, "demo mode"),
            Err(error) => tracing::warn!(%error, "demo mode: a simulated request could not be sent"),
        }
    }
}
