-- The wizard's self-test provisions through a token of its own, marked here. What it creates
-- gets an id starting with `selftest-` (see `store::SELF_TEST_ID_PREFIX`), and neither those
-- resources nor their changes reach the vendor's product: the event feed, webhooks, the
-- Directory Sync API and the operator API's reads leave them out, while the SCIM endpoint
-- the self-test exercises serves them like any other.
ALTER TABLE directory_tokens ADD COLUMN self_test INTEGER NOT NULL DEFAULT 0 CHECK (self_test IN (0, 1));
