//! The ids of the Directory Sync API, shaped like WorkOS's (`org_…`, `directory_…`,
//! `directory_user_…`, `directory_group_…`). A user's or group's id carries its directory's,
//! so `GET /directory_users/{id}` finds its tenant through the directory, the way every
//! other read does, without a query that spans tenants.

use store::{DirectoryId, TenantId};
use uuid::Uuid;

const ORGANIZATION: &str = "org_";
const DIRECTORY: &str = "directory_";
const USER: &str = "directory_user_";
const GROUP: &str = "directory_group_";

pub fn organization_id(tenant: TenantId) -> String {
    format!("{ORGANIZATION}{}", tenant.as_uuid().simple())
}

pub fn directory_id(directory: DirectoryId) -> String {
    format!("{DIRECTORY}{}", directory.as_uuid().simple())
}

/// A user's id.
pub fn user_id(directory: DirectoryId, user: &str) -> String {
    resource_id(USER, directory, user)
}

pub fn group_id(directory: DirectoryId, group: &str) -> String {
    resource_id(GROUP, directory, group)
}

fn resource_id(prefix: &str, directory: DirectoryId, resource: &str) -> String {
    match Uuid::parse_str(resource) {
        Ok(resource) => format!("{prefix}{}{}", directory.as_uuid().simple(), resource.simple()),
        // Resource ids are this service's UUIDs; anything else is kept readable.
        Err(_) => format!("{prefix}{}_{resource}", directory.as_uuid().simple()),
    }
}

pub fn parse_organization(id: &str) -> Option<TenantId> {
    simple_uuid(id.strip_prefix(ORGANIZATION)?).map(TenantId::from)
}

pub fn parse_directory(id: &str) -> Option<DirectoryId> {
    simple_uuid(id.strip_prefix(DIRECTORY)?).map(DirectoryId::from)
}

/// The directory and the stored id of a user.
pub fn parse_user(id: &str) -> Option<(DirectoryId, String)> {
    parse_resource(USER, id)
}

/// The directory and the stored id of a group.
pub fn parse_group(id: &str) -> Option<(DirectoryId, String)> {
    parse_resource(GROUP, id)
}

fn parse_resource(prefix: &str, id: &str) -> Option<(DirectoryId, String)> {
    let rest = id.strip_prefix(prefix)?;
    let (directory, resource) = (rest.get(..32)?, rest.get(32..)?);
    let directory = DirectoryId::from(simple_uuid(directory)?);
    let resource = match resource.strip_prefix('_') {
        Some(other) if !other.is_empty() => other.to_owned(),
        Some(_) => return None,
        None => simple_uuid(resource)?.hyphenated().to_string(),
    };
    Some((directory, resource))
}

/// A UUID written as 32 lower-case hex digits, nothing else.
fn simple_uuid(text: &str) -> Option<Uuid> {
    let well_formed = text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| Uuid::parse_str(text).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> DirectoryId {
        DirectoryId::from(Uuid::from_u128(0x0193_aaaa_0000_7000_8000_0000_0000_0001))
    }

    #[test]
    fn ids_round_trip() {
        let tenant = TenantId::from(Uuid::from_u128(7));
        assert_eq!(parse_organization(&organization_id(tenant)), Some(tenant));
        assert_eq!(parse_directory(&directory_id(directory())), Some(directory()));
        let user = Uuid::from_u128(0x0193_bbbb_0000_7000_8000_0000_0000_0002).hyphenated().to_string();
        let encoded = user_id(directory(), &user);
        assert!(encoded.starts_with("directory_user_0193aaaa"), "{encoded}");
        assert_eq!(parse_user(&encoded), Some((directory(), user.clone())));
        assert_eq!(parse_group(&group_id(directory(), &user)), Some((directory(), user)));
        assert_eq!(parse_user(&user_id(directory(), "imported-7")), Some((directory(), "imported-7".to_owned())));
    }

    #[test]
    fn one_kinds_id_is_not_taken_for_anothers() {
        let user = user_id(directory(), &Uuid::from_u128(2).to_string());
        assert_eq!(parse_group(&user), None);
        assert_eq!(parse_directory(&user), None);
        assert_eq!(parse_user(&directory_id(directory())), None);
        assert_eq!(parse_organization(&directory_id(directory())), None);
    }

    #[test]
    fn malformed_ids_parse_to_nothing() {
        for id in [
            "",
            "org_",
            "org_xyz",
            "org_0193AAAA000070008000000000000001",
            "directory_0193aaaa00007000800000000000000",
            "directory_user_0193aaaa000070008000000000000001",
            "directory_user_0193aaaa000070008000000000000001_",
            "directory_group_0193aaaa000070008000000000000001zz",
        ] {
            assert_eq!(
                (parse_organization(id), parse_directory(id), parse_user(id), parse_group(id)),
                (None, None, None, None),
                "{id}"
            );
        }
    }
}
