-- Sessions are stored under the SHA-256 digest of their id from now on (see
-- store/src/sessions.rs); rows stored under the id itself would never be found again.
-- Everyone signs in once more.
DELETE FROM sessions;
