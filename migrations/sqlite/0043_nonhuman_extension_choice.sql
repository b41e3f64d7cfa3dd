-- Whether a directory offers the non-human identity extension
-- (`urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User`) on its SCIM endpoint
-- (issue 20). On (1, every directory so far): it is in /Schemas and the User resource
-- type, and the users that carry it are indexed in `scim_nonhuman` (expiry, owners). Off:
-- the endpoint offers only RFC 7643's User and Group schemas, and attributes under that
-- URN are treated like any other undeclared attribute (kept and reported, or refused
-- under the strict policy), never indexed.
ALTER TABLE directories ADD COLUMN nonhuman_extension INTEGER NOT NULL DEFAULT 1 CHECK (nonhuman_extension IN (0, 1));
