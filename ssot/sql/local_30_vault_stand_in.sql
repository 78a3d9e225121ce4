-- ssot local database bootstrap, step 3: a STAND-IN for Supabase Vault.
--
-- THIS IS NOT SUPABASE VAULT. The real one is the `supabase_vault` extension, which is not packaged
-- for Debian. This file builds only its public interface (see shared/supabase-vault-interface.md):
-- table vault.secrets, view vault.decrypted_secrets, vault.create_secret, vault.update_secret, so
-- that the project's code and tests talk to the same objects they use on a real Supabase project.
-- Underneath it is pgcrypto: pgp_sym_encrypt under a random key kept in vault.stand_in_keys (readable
-- by its owner only), ciphertext stored base64 in vault.secrets.secret. Good enough to keep plaintext
-- out of the table for a throwaway local cluster; no claim of Vault's security properties.
-- Idempotent: applied on every `ssot db start`.

CREATE SCHEMA IF NOT EXISTS vault;
COMMENT ON SCHEMA vault IS
    'STAND-IN for Supabase Vault (supabase_vault), created by ssot for the local database only: '
    'same public interface (secrets, decrypted_secrets, create_secret, update_secret), pgcrypto '
    'pgp_sym_encrypt underneath. Not the real extension.';
REVOKE ALL ON SCHEMA vault FROM PUBLIC;
GRANT USAGE ON SCHEMA vault TO service_role;

CREATE TABLE IF NOT EXISTS vault.stand_in_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key bytea NOT NULL DEFAULT extensions.gen_random_bytes(32),
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE vault.stand_in_keys IS
    'ssot Vault stand-in only: the symmetric keys. Readable by the owner alone.';
REVOKE ALL ON vault.stand_in_keys FROM PUBLIC, anon, authenticated, service_role;
INSERT INTO vault.stand_in_keys (id)
SELECT gen_random_uuid() WHERE NOT EXISTS (SELECT 1 FROM vault.stand_in_keys);

CREATE TABLE IF NOT EXISTS vault.secrets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,
    key_id uuid,
    nonce bytea,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS secrets_name_idx ON vault.secrets (name) WHERE name IS NOT NULL;
COMMENT ON TABLE vault.secrets IS
    'ssot Vault stand-in: ciphertext (base64 of pgcrypto pgp_sym_encrypt), never plaintext.';
REVOKE ALL ON vault.secrets FROM PUBLIC, anon, authenticated;
GRANT SELECT, DELETE ON vault.secrets TO service_role;

-- Runs with the owner's rights on vault.stand_in_keys (a view checks table access as its owner);
-- its callers are restricted by the grants below, as on Supabase.
CREATE OR REPLACE VIEW vault.decrypted_secrets AS
SELECT s.id,
       s.name,
       s.description,
       s.secret,
       CASE WHEN s.secret IS NULL THEN NULL
            ELSE extensions.pgp_sym_decrypt(
                     decode(s.secret, 'base64'),
                     encode(k.key || coalesce(s.nonce, '\x'::bytea), 'hex'))
       END AS decrypted_secret,
       s.key_id,
       s.nonce,
       s.created_at,
       s.updated_at
FROM vault.secrets s
LEFT JOIN vault.stand_in_keys k ON k.id = s.key_id;
REVOKE ALL ON vault.decrypted_secrets FROM PUBLIC, anon, authenticated;
GRANT SELECT ON vault.decrypted_secrets TO service_role;

CREATE OR REPLACE FUNCTION vault.create_secret(
    new_secret text,
    new_name text DEFAULT NULL,
    new_description text DEFAULT '',
    new_key_id uuid DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    k vault.stand_in_keys%ROWTYPE;
    n bytea := extensions.gen_random_bytes(16);
    created uuid;
BEGIN
    IF new_key_id IS NULL THEN
        SELECT * INTO k FROM vault.stand_in_keys ORDER BY created_at, id LIMIT 1;
    ELSE
        SELECT * INTO k FROM vault.stand_in_keys WHERE id = new_key_id;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'vault stand-in: no such key' USING ERRCODE = '22023';
    END IF;
    INSERT INTO vault.secrets (secret, name, description, key_id, nonce)
    VALUES (
        translate(encode(extensions.pgp_sym_encrypt(new_secret, encode(k.key || n, 'hex')), 'base64'),
                  E'\n', ''),
        new_name,
        coalesce(new_description, ''),
        k.id,
        n)
    RETURNING id INTO created;
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION vault.update_secret(
    secret_id uuid,
    new_secret text DEFAULT NULL,
    new_name text DEFAULT NULL,
    new_description text DEFAULT NULL,
    new_key_id uuid DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    cur vault.secrets%ROWTYPE;
    k vault.stand_in_keys%ROWTYPE;
    plain text;
    n bytea;
BEGIN
    SELECT * INTO cur FROM vault.secrets s WHERE s.id = secret_id FOR UPDATE;
    IF NOT FOUND THEN
        -- As supabase_vault: updating a missing id is a no-op.
        RETURN;
    END IF;
    SELECT * INTO k FROM vault.stand_in_keys WHERE id = coalesce(new_key_id, cur.key_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'vault stand-in: no such key' USING ERRCODE = '22023';
    END IF;
    IF new_secret IS NOT NULL THEN
        plain := new_secret;
    ELSIF k.id IS DISTINCT FROM cur.key_id THEN
        -- A new key without a new value: re-encrypt the current value under the new key.
        SELECT d.decrypted_secret INTO plain FROM vault.decrypted_secrets d WHERE d.id = secret_id;
    END IF;
    IF plain IS NOT NULL THEN
        n := extensions.gen_random_bytes(16);
        UPDATE vault.secrets s
           SET secret = translate(encode(extensions.pgp_sym_encrypt(plain, encode(k.key || n, 'hex')),
                                         'base64'), E'\n', ''),
               key_id = k.id,
               nonce = n
         WHERE s.id = secret_id;
    END IF;
    UPDATE vault.secrets s
       SET name = coalesce(new_name, s.name),
           description = coalesce(new_description, s.description),
           updated_at = now()
     WHERE s.id = secret_id;
END
$$;

REVOKE ALL ON FUNCTION vault.create_secret(text, text, text, uuid) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION vault.update_secret(uuid, text, text, text, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION vault.create_secret(text, text, text, uuid) TO service_role;
GRANT EXECUTE ON FUNCTION vault.update_secret(uuid, text, text, text, uuid) TO service_role;
