//! The portal's pages, one module per page or page group, each with the server functions
//! it calls beside it.
//!
//! The operator console: [`status`] (`/`), [`tenants`] (`/tenants`, `/tenants/{slug}`),
//! [`team`], [`api_keys`], [`branding`], [`support`], [`roles`], and staff's read-only views of a tenant's data: [`staff_directory`] and the staff trail in [`audit`]; [`people`] (`/account` for everyone, and
//! the admins of a tenant). The tenant admin's pages: [`setup_link`], [`confirm_email`], [`admin_home`]
//! (`/admin`), [`wizard`] (`/admin/connect` and the six setup steps), [`dashboard`], [`group_roles`],
//! [`resource`] (a user or group), [`tokens`] (with [`oauth_clients`]), [`brake`], [`audit`], [`offboarding`], [`webhooks`], [`alerts`] (panels on those pages), and [`portal_link`] (an Admin Portal link that
//! opens nothing). And [`sign_in`], [`not_found`] and the test-only
//! [`probe`].

pub mod admin_home;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod brake;
pub mod branding;
pub mod confirm_email;
pub mod dashboard;
pub mod google;
pub mod group_roles;
pub mod not_found;
pub mod oauth_clients;
pub mod offboarding;
pub mod people;
pub mod portal_link;
pub mod probe;
pub mod resource;
pub mod roles;
pub mod setup_link;
pub mod setup_links;
pub mod sign_in;
pub mod staff_directory;
pub mod stale_users;
pub mod status;
pub mod support;
pub mod team;
pub mod tenants;
pub mod tokens;
pub mod webhooks;
pub mod wizard;
