//! What the admin does in their identity provider's console at each wizard step, per
//! identity provider: where to click and which fields to fill, with the documentation each
//! guide follows and the date it was checked, and what a guide assumes where its vendor
//! documents nothing.

/// Where a guide comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuideSource {
    /// The documentation the steps follow.
    pub url: &'static str,
    /// The documentation's name, in words (the link's text).
    pub title: &'static str,
    /// When the steps were last checked against it (ISO date).
    pub checked_on: &'static str,
    /// What the steps assume that the vendor does not document, in words.
    pub assumed: Option<&'static str>,
}

/// The source of each identity provider's guide (`None`: the generic client, which
/// follows RFC 7644 itself).
pub fn source(idp: &str) -> Option<GuideSource> {
    let (url, title, assumed) = match idp {
        "okta" => (
            "https://help.okta.com/en-us/content/topics/apps/apps_app_integration_wizard_scim.htm",
            "Okta's guide to SCIM in app integrations",
            None,
        ),
        "entra" => (
            "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups",
            "Microsoft's SCIM provisioning tutorial",
            None,
        ),
        "google" => (
            "https://developers.google.com/workspace/admin/directory/v1/guides/delegation",
            "Google's guide to domain-wide delegation for the Directory API",
            None,
        ),
        "onelogin" => ("https://developers.onelogin.com/scim/create-app", "OneLogin's guide to SCIM apps", None),
        "jumpcloud" => (
            "https://jumpcloud.com/support/provision-and-manage-users-and-groups-in-apps-using-custom-scim-identity-management-integration",
            "JumpCloud's guide to custom SCIM integrations",
            Some(
                "JumpCloud documents its custom SCIM integration, but not which attributes it sends or how it \
                 changes group members; the mapping shown is assumed from its user fields, and it may send \
                 members in the Entra ID style, which this endpoint accepts.",
            ),
        ),
        "ping" => (
            "https://docs.pingidentity.com/integrations/scim/scim_connector/pf_scim_connector.html",
            "Ping Identity's SCIM connector guide",
            Some(
                "The field names follow Ping's SCIM connector guide for PingFederate; they were not tried \
                 against a PingFederate server, and the LDAP sources depend on your data store.",
            ),
        ),
        "rippling" => (
            "https://workos.com/docs/integrations/rippling-scim",
            "WorkOS's Rippling guide (Rippling publishes none)",
            Some(
                "Rippling does not publish how to set up a custom SCIM app; these steps follow another \
                 vendor's integration guide and name Rippling's fields as that guide shows them.",
            ),
        ),
        _ => return None,
    };
    // The Google guide was rewritten for the pull connector a day after the others were checked.
    let checked_on = if idp == "google" { "2026-12-06" } else { "2026-12-05" };
    Some(GuideSource { url, title, checked_on, assumed })
}

/// The identity providers a directory can be connected to: (stored name, product name,
/// one line on how it connects).
pub fn identity_providers() -> [(&'static str, &'static str, &'static str); 8] {
    [
        ("okta", "Okta", "A SCIM 2.0 app integration in the Okta Admin Console."),
        ("entra", "Microsoft Entra ID", "An enterprise application with automatic provisioning."),
        ("google", "Google Workspace", "Read from Google's Directory API with a service account you authorise."),
        ("onelogin", "OneLogin", "A SCIM Provisioner with SAML 2.0 (SCIM v2 Enterprise) app."),
        ("jumpcloud", "JumpCloud", "Identity management (SCIM 2.0) of a custom SSO application."),
        ("ping", "PingFederate", "An outbound provisioning channel with the SCIM connector."),
        ("rippling", "Rippling", "A custom app with SCIM provisioning."),
        ("generic", "Generic SCIM 2.0", "Any client that speaks RFC 7644."),
    ]
}

/// The steps to take in the identity provider for `step` (`endpoint`, `token`, `mapping`,
/// `test`), in order.
pub fn instructions(idp: &str, step: &str) -> Vec<&'static str> {
    let steps: &[&str] = match (idp, step) {
        ("okta", "endpoint") => &[
            "In the Okta Admin Console, open Applications → Applications → Create App Integration, choose SAML 2.0 (Okta offers SCIM for SAML and SWA app integrations, not OIDC ones), and finish the app.",
            "On the app's General tab, click Edit under App Settings and select Enable SCIM provisioning.",
            "On the new Provisioning tab → Integration, paste the SCIM base URL above into SCIM connector base URL.",
            "Set Unique identifier field for users to userName, and tick Push New Users, Push Profile Updates and Push Groups.",
        ],
        ("okta", "token") => &[
            "Still under Provisioning → Integration, set Authentication Mode to HTTP Header.",
            "Paste the token above into Authorization (Okta adds the word Bearer itself).",
            "Click Test Connector Configuration, then Save. Okta's test request turns this page green.",
        ],
        ("okta", "mapping") => &[
            "Open Provisioning → To App and enable Create Users, Update User Attributes and Deactivate Users.",
            "Scroll to the attribute mappings: Okta names its sources user.login, user.firstName and so on, as in the right-hand column below.",
        ],
        ("okta", "test") => &[
            "Assign a test user to the app (Assignments → Assign → Assign to People), or push a group (Push Groups).",
            "Each request Okta sends appears below as it arrives.",
        ],
        ("entra", "endpoint") => &[
            "In the Microsoft Entra admin center, open Enterprise applications → New application → Create your own application (Integrate any other application you don't find in the gallery).",
            "In the new app, open Provisioning → Get started and set Provisioning Mode to Automatic.",
            "Under Admin Credentials, paste the SCIM base URL above into Tenant URL.",
        ],
        ("entra", "token") => &[
            "Paste the token above into Secret Token, under Admin Credentials.",
            "Click Test Connection. Entra sends a request for a random user; this page turns green when it arrives.",
            "Click Save.",
        ],
        ("entra", "mapping") => &[
            "Open Provisioning → Mappings → Provision Microsoft Entra ID Users.",
            "Entra's default sources are in the right-hand column below (userPrincipalName, mailNickname…). Change a row here if you changed it there.",
        ],
        ("entra", "test") => &[
            "Assign a user under Users and groups, then use Provision on demand to provision that user now rather than waiting up to 40 minutes for the next cycle.",
            "Set Provisioning Status to On for continuous sync.",
        ],
        ("google", "endpoint") => &[
            "Google Workspace cannot push users to a custom app: it provisions only to the apps in its own catalogue. This service reads your users and groups from Google's Directory API instead, with a service account you authorise to read them.",
            "In the Google Cloud console, pick or create a project, enable the Admin SDK API, and create a service account (IAM & Admin → Service Accounts → Create service account). It needs no roles.",
            "Open the service account, then Keys → Add key → Create new key → JSON, and paste the downloaded file into the form on this page.",
            "In the Google Admin console, open Security → Access and data control → API controls → Manage Domain Wide Delegation → Add new. Client ID: the service account's (shown here once connected). OAuth scopes: https://www.googleapis.com/auth/admin.directory.user.readonly, https://www.googleapis.com/auth/admin.directory.group.readonly, https://www.googleapis.com/auth/admin.directory.group.member.readonly",
            "Give the email of an admin of your Workspace who may read users and groups: the service account reads as that admin. Connecting checks all of this at once and says what is missing.",
        ],
        ("google", "token") => &[
            "There is no token to paste into Google: this service writes what it reads from Google with a token of its own, listed on the tokens page as “Google Workspace connector”. Revoking that token stops the sync.",
            "Each sync reads every user, group and membership first, then creates, updates and deactivates to match; nothing is deactivated after a read that did not finish. Syncs repeat on the schedule chosen, and “Sync now” starts one at once.",
        ],
        ("google", "mapping") => &[
            "The sources below are the Directory API fields (primaryEmail, name.givenName…) the Google connector fills each attribute from.",
        ],
        ("google", "test") => &[
            "Each sync's requests appear below as the connector sends them: a sync with changes shows its creates, updates and deactivations. Start one with “Sync now” on the first-sync step or the dashboard.",
        ],
        ("onelogin", "endpoint") => &[
            "In OneLogin Administration, open Applications → Add App and choose SCIM Provisioner with SAML (SCIM v2 Enterprise).",
            "On the Configuration tab, paste the SCIM base URL above into SCIM Base URL.",
        ],
        ("onelogin", "token") => {
            &["Paste the token above into SCIM Bearer Token, click Save, then Enable under API Status."]
        }
        ("onelogin", "mapping") => {
            &["On the Parameters tab, check that each SCIM field is filled from the OneLogin field listed below."]
        }
        ("onelogin", "test") => {
            &["On the Provisioning tab, tick Enable provisioning and Save, then assign the app to a test user."]
        }
        ("jumpcloud", "endpoint") => &[
            "In the JumpCloud Admin Portal, open SSO Applications and add or open a custom application.",
            "On its Identity Management tab, choose SCIM 2.0 and paste the SCIM base URL above into Base URL.",
        ],
        ("jumpcloud", "token") => &[
            "Set Token Key to the token above, and Test User Email to a user that exists in JumpCloud.",
            "Click Test Connection, then Activate.",
        ],
        ("jumpcloud", "mapping") => {
            &["JumpCloud sends its system user fields (email, firstname, lastname…) as listed below."]
        }
        ("jumpcloud", "test") => &["Bind a user group to the application; its members are provisioned at once."],
        ("ping", "endpoint") => &[
            "In the PingFederate administrative console, open Applications → SP Connections and create or edit the connection.",
            "Enable Outbound Provisioning and choose the SCIM connector; paste the SCIM base URL above as the SCIM URL, with SCIM Version 2.0.",
        ],
        ("ping", "token") => {
            &["Set Authentication Method to OAuth 2 Bearer Token and paste the token above as Access Token."]
        }
        ("ping", "mapping") => &["On the Attribute Mapping page of the channel, map the LDAP attributes listed below."],
        ("ping", "test") => &["Activate the channel; PingFederate provisions on its next synchronization cycle."],
        ("rippling", "endpoint") => &[
            "In Rippling, open App Shop → Custom App and create the app with SCIM provisioning.",
            "Paste the SCIM base URL above as the SCIM endpoint.",
        ],
        ("rippling", "token") => &["Paste the token above as the bearer token and save."],
        ("rippling", "mapping") => &["Check Rippling's employee fields against the sources listed below."],
        ("rippling", "test") => &["Grant the app to a test employee; Rippling provisions at once."],
        (_, "endpoint") => &[
            "Configure your SCIM client with the base URL above. It serves /Users, /Groups, /Bulk, /.search and the discovery endpoints.",
        ],
        (_, "token") => &[
            "Send the token above in every request as Authorization: Bearer <token>, or use the OAuth 2.0 client credentials grant.",
        ],
        (_, "mapping") => {
            &["A generic client sends SCIM attributes under their own names, so each source below is the SCIM name."]
        }
        _ => &["Provision a test user from your client. Each request appears below as it arrives."],
    };
    steps.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identity_provider_has_instructions_for_every_step() {
        for (idp, _, _) in identity_providers() {
            for step in ["endpoint", "token", "mapping", "test"] {
                assert!(!instructions(idp, step).is_empty(), "{idp} {step}");
            }
        }
        assert!(instructions("okta", "endpoint").iter().any(|line| line.contains("SCIM connector base URL")));
        assert!(instructions("entra", "endpoint").iter().any(|line| line.contains("Tenant URL")));
        assert!(instructions("entra", "token").iter().any(|line| line.contains("Secret Token")));
    }

    /// Google Workspace pushes SCIM only to its catalogue's apps: no step may tell the admin
    /// to set up auto-provisioning of a custom app.
    #[test]
    fn the_google_guide_does_not_promise_auto_provisioning() {
        let guide: Vec<&str> = ["endpoint", "token", "mapping", "test"]
            .into_iter()
            .flat_map(|step| instructions("google", step))
            .collect();
        assert!(
            guide
                .iter()
                .all(|line| !line.contains("Set up auto-provisioning") && !line.contains("turn Auto-provisioning ON"))
        );
        assert!(guide[0].contains("cannot push users"), "{guide:?}");
        assert!(guide.iter().any(|line| line.contains("admin.directory.group.member.readonly")), "{guide:?}");
        let (_, _, note) = identity_providers().into_iter().find(|(idp, ..)| *idp == "google").unwrap();
        assert!(!note.contains("custom SAML app"), "{note}");
    }

    /// Every vendor's guide names its source and when it was checked; where the vendor
    /// documents nothing, the guide says so.
    #[test]
    fn every_vendor_guide_names_its_source_and_what_it_assumes() {
        for (idp, _, _) in identity_providers() {
            let Some(source) = source(idp) else {
                assert_eq!(idp, "generic");
                continue;
            };
            assert!(source.url.starts_with("https://"), "{idp}");
            assert_eq!(source.checked_on.len(), 10, "{idp}");
            assert_eq!(source.assumed.is_some(), matches!(idp, "ping" | "rippling" | "jumpcloud"), "{idp}");
        }
    }

    /// The endpoint and token steps show the address and the token above their
    /// instructions; the mapping table, below them, has the identity provider's sources in
    /// its right-hand column.
    #[test]
    fn instructions_point_where_the_page_shows_things() {
        for (idp, _, _) in identity_providers() {
            for step in ["endpoint", "token"] {
                for line in instructions(idp, step) {
                    assert!(!line.contains("below"), "{idp} {step}: {line}");
                }
            }
            for line in instructions(idp, "mapping") {
                assert!(!line.contains("left") && !line.contains("above"), "{idp} mapping: {line}");
            }
        }
    }
}
