-- Tokens issued by the client-credentials grant (POST /oauth/token) name the OAuth client
-- that obtained them. An identity provider fetches one every hour, so they are swept a day
-- after they expire (`Store::delete_expired_access_tokens`); tokens an admin issued stay,
-- expired or not, for the tokens page and the audit trail. NULL: issued by an admin.
ALTER TABLE directory_tokens ADD COLUMN oauth_client_id TEXT;
CREATE INDEX directory_tokens_access_expiry ON directory_tokens (expires_at) WHERE oauth_client_id IS NOT NULL;
