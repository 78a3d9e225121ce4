"""Pulumi dynamic providers for the Supabase objects pulumi-postgresql does not know.

Conventions every provider here follows:
- The provider object is stateless and takes no constructor arguments: Pulumi pickles it into the
  state, so it must never capture a connection string, a token or a secret.
- Connection details arrive as inputs (`conninfo` for Postgres, `api_url`/`access_token` for the
  Management API), marked secret by the component that declares the resource.
- Outputs never contain a secret value. A secret's value is represented by `fingerprint`, an
  HMAC-SHA256 under the `fingerprint_key` input, so `diff` can tell a changed value from an
  unchanged one and `read` (refresh) can tell an out-of-band change, with no plaintext in state;
  `fingerprint` is itself a secret output (with the state, it would let anyone test guesses if the
  key ever leaked). The one exception is `FingerprintKey`, whose only output is the generated key,
  a secret output.
- Failures raise ssot.errors.ProviderError with a message safe to show and to keep in state.
"""
