//! Importing tokens kept elsewhere in plaintext, so the user keeps working
//! without signing in again and the plaintext copy can go.
//!
//! [`msal`] reads MSAL token caches (`msal.SerializableTokenCache` files,
//! Azure CLI's `msal_token_cache.json`) into per-account [`msal::Import`]s;
//! [`takeover`] turns those into profiles and vault records, proven by a
//! refresh (the CLI's `import msal` and the tray app's Import view).

pub mod msal;
pub mod shred;
pub mod takeover;
